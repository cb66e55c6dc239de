// The state an rt::mpmc channel's senders and receivers share, and the rules that keep its two
// waiter queues fair and cancel-safe (rt/chan/mpmc.hpp has the public side).
//
// Messages stay in `queue` until a receiver that is running takes one. A woken receiver is not
// handed a message; it is given a *claim*: `claimed` counts messages promised to receivers that
// were woken (or yielded) but have not run yet, and nobody else may take those. So:
//  - a receiver waits only when every queued message is claimed (queue.size() == claimed), and a
//    new message is claimed for the longest-waiting receiver before anyone arriving later can
//    take it: waiting receivers are served FIFO, and a woken receiver always finds its message;
//  - a claimed receiver that is cancelled before it runs gives its claim to the next waiting
//    receiver (or back to the queue): the message itself never left the channel.
// Senders of a bounded channel mirror this with *reservations* of free slots (`reserved`): a
// sender waits only when queue.size() + reserved reaches the bound; a slot freed by a receiver is
// reserved for the longest-waiting sender; a reserved sender that is cancelled passes the slot on
// and has sent nothing, since its message is pushed only when it runs.
// Closing wakes every waiting sender ("look again": they find the channel closed). Waiting
// receivers are woken for the close only once the queue is empty: while claims are outstanding a
// claimed receiver may still be cancelled and pass its message to one of them.
#pragma once

#include "rt/chan/detail/mpmc_ring.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/waiter.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace rt::detail {

template <class T>
struct mpmc_state {
    static constexpr std::size_t unbounded = SIZE_MAX;

    explicit mpmc_state(std::size_t b) noexcept : bound(b) {}

    const std::size_t bound; // `unbounded` for an unbounded channel

    // Guarded by mu. A waiter's `notified` means it holds a claim (receivers) or a reservation
    // (senders); a waiter unlinked with notified == false was woken by the close.
    mutex mu;
    mpmc_ring<T> queue;
    waiter_queue waiting_receivers;
    waiter_queue waiting_senders;
    std::size_t claimed = 0;  // queued messages promised to woken receivers
    std::size_t reserved = 0; // free slots promised to woken senders
    bool closed = false;

    // Handle counts (copies of senders and receivers), changed without the lock: only the last
    // one of a side takes it, to close. `handles` owns the state's memory.
    atomic<std::size_t> senders{1};
    atomic<std::size_t> receivers{1};
    atomic<std::size_t> handles{2};

    bool has_room() const noexcept { return queue.size() + reserved < bound; }
    bool has_unclaimed() const noexcept { return queue.size() > claimed; }

    /// Under mu, after a push (or a released claim): claims a message for the longest-waiting
    /// receiver.
    void offer_to_receiver(pending_wake& wake) noexcept {
        if (!waiting_receivers.empty() && has_unclaimed()) {
            waiter* w = waiting_receivers.pop_front();
            w->notified = true;
            ++claimed;
            wake.prepare(w->w);
        }
    }

    /// Under mu, after a take (or a released reservation): reserves a slot for the
    /// longest-waiting sender.
    void offer_to_sender(pending_wake& wake) noexcept {
        if (!waiting_senders.empty() && !closed && has_room()) {
            waiter* w = waiting_senders.pop_front();
            w->notified = true;
            ++reserved;
            wake.prepare(w->w);
        }
    }

    /// Under mu, after a receiver took a message.
    void after_take(pending_wake& wake, pending_wakes& wakes) {
        offer_to_sender(wake);
        if (closed && queue.empty())
            wake_all(waiting_receivers, wakes);
    }

    /// Under mu. True if this call closed the channel.
    bool close_locked(pending_wakes& wakes) {
        if (closed)
            return false;
        closed = true;
        wake_all(waiting_senders, wakes);
        if (queue.empty())
            wake_all(waiting_receivers, wakes);
        return true;
    }

    static void wake_all(waiter_queue& q, pending_wakes& wakes) {
        while (waiter* w = q.pop_front()) {
            w->notified = false;
            wakes.prepare(w->w);
        }
    }

    bool close() {
        pending_wakes wakes;
        std::lock_guard lock(mu);
        return close_locked(wakes);
    }

    void add_sender() noexcept {
        senders.fetch_add(1, memory_order_relaxed);
        handles.fetch_add(1, memory_order_relaxed);
    }
    void add_receiver() noexcept {
        receivers.fetch_add(1, memory_order_relaxed);
        handles.fetch_add(1, memory_order_relaxed);
    }

    void drop_sender() noexcept {
        if (senders.fetch_sub(1, memory_order_acq_rel) == 1)
            close();
        release();
    }

    void drop_receiver() noexcept {
        if (receivers.fetch_sub(1, memory_order_acq_rel) == 1) {
            // Nobody can receive any more: the queued messages are destroyed now rather than with
            // the last sender, outside the lock (a message's destructor may use this channel).
            mpmc_ring<T> dropped;
            pending_wakes wakes;
            std::lock_guard lock(mu);
            close_locked(wakes);
            if (claimed == 0)
                queue.swap(dropped);
        }
        release();
    }

    void release() noexcept {
        if (handles.fetch_sub(1, memory_order_acq_rel) == 1)
            delete this;
    }
};

} // namespace rt::detail
