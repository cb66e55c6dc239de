// rt::broadcast: a multi-producer, multi-consumer channel in which every receiver gets every value
// (a copy of it), as tokio::sync::broadcast.
//
//     auto [tx, rx] = rt::broadcast::channel<event>(16);
//     auto rx2 = tx.subscribe();                // gets what is sent from now on
//     auto n = tx.send(event{...});             // immediate; *n = how many receivers it reached
//     auto e = co_await rx.recv();              // rt::expected<event, rt::broadcast::recv_error>
//     if (!e && e.error().is_lagged())          // e.error().missed values were overwritten;
//         ...                                   // the next recv gives the oldest one still held
//
// Memory is bounded: the channel keeps the last `capacity` values in a ring. send() never waits:
// when the ring is full it overwrites the oldest value, and a receiver that had not read it yet
// finds out on its next recv(), which reports recv_error::lagged with the exact number of values
// it lost and moves it to the oldest value still held. A value is released as soon as every
// receiver that was subscribed when it was sent has read it (or lagged past it, or was dropped);
// the last reader gets it moved rather than copied.
//
// Ordering: all receivers see the values in one and the same order, the order in which send()
// calls took the channel's lock; values of one sender arrive in the order it sent them.
// Subscription: a receiver gets exactly the values sent after it was made. tx.subscribe(),
// rx.resubscribe() and copying a receiver all make a receiver that starts at the current tail:
// a copy does NOT inherit the unread values of the original (as Tokio's resubscribe()).
// Close: when the last sender is gone, receivers first get every value still held for them, then
// recv_error::closed. send() with no receiver fails and gives the value back (send_error).
// Cancellation: recv() is cancel-safe. Values stay in the channel until a resumed receive takes
// them; a receive cancelled by abort, timeout or select loses nothing, and the next recv() gets
// the value it would have got.
// One receive at a time per receiver (like Tokio's &mut self); share values by subscribing more
// receivers, not by awaiting one receiver from two tasks. Senders and receivers may be used from
// any thread; send() also works outside a runtime. A moved-from handle may only be assigned to or
// destroyed.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/expected.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace rt::broadcast {

/// send() found no receiver; the value comes back.
template <class T>
struct send_error {
    T value;
    const char* what() const noexcept { return "broadcast channel has no receivers"; }
};

/// Why recv() gave no value.
struct recv_error {
    enum kind_type : std::uint8_t {
        closed, ///< every sender is gone and nothing is left for this receiver
        lagged, ///< `missed` values were overwritten before this receiver read them
    };
    kind_type kind = closed;
    std::uint64_t missed = 0;

    bool is_closed() const noexcept { return kind == closed; }
    bool is_lagged() const noexcept { return kind == lagged; }
    const char* what() const noexcept {
        return kind == closed ? "broadcast channel closed" : "broadcast receiver lagged";
    }
    friend bool operator==(const recv_error&, const recv_error&) = default;
};

/// Why try_recv() gave no value.
struct try_recv_error {
    enum kind_type : std::uint8_t {
        empty,  ///< nothing new yet; the channel is open
        closed, ///< every sender is gone and nothing is left for this receiver
        lagged, ///< `missed` values were overwritten before this receiver read them
    };
    kind_type kind = empty;
    std::uint64_t missed = 0;

    bool is_empty() const noexcept { return kind == empty; }
    bool is_closed() const noexcept { return kind == closed; }
    bool is_lagged() const noexcept { return kind == lagged; }
    const char* what() const noexcept {
        switch (kind) {
        case empty:
            return "broadcast channel empty";
        case closed:
            return "broadcast channel closed";
        default:
            return "broadcast receiver lagged";
        }
    }
    friend bool operator==(const try_recv_error&, const try_recv_error&) = default;
};

template <class T>
class sender;
template <class T>
class receiver;

} // namespace rt::broadcast

namespace rt::detail {

// The state all handles share. Everything is guarded by `mu`; values are copied under it, so
// keep T cheap to copy (or share big payloads through a std::shared_ptr<const U>).
template <class T>
struct broadcast_state {
    static constexpr std::uint64_t none = ~std::uint64_t{0};

    struct slot {
        std::uint64_t pos = none; // which message this slot holds
        std::size_t rem = 0;      // receivers that have yet to read it
        std::optional<T> value;   // released when rem reaches 0
    };

    explicit broadcast_state(std::size_t capacity) : ring(capacity) {}

    mutex mu;
    std::vector<slot> ring;
    std::uint64_t tail = 0; // position of the next value sent
    std::size_t senders = 1;
    std::size_t receivers = 1;
    bool closed = false; // every sender is gone
    waiter_queue waiters;

    slot& at(std::uint64_t pos) noexcept { return ring[pos % ring.size()]; }
    // The oldest position the ring can still hold.
    std::uint64_t oldest() const noexcept { return tail < ring.size() ? 0 : tail - ring.size(); }

    // Whether a receive at `next` completes now (with a value, a lag or the close).
    bool ready_locked(std::uint64_t next) const noexcept { return next != tail || closed; }

    expected<T, broadcast::try_recv_error> try_recv_locked(std::uint64_t& next) {
        slot& s = at(next);
        if (s.pos != next) {
            if (next == tail) {
                if (closed)
                    return unexpected(
                        broadcast::try_recv_error{broadcast::try_recv_error::closed, 0});
                return unexpected(broadcast::try_recv_error{broadcast::try_recv_error::empty, 0});
            }
            // The value at `next` was overwritten (or lost to a send whose copy threw): resume
            // at the oldest value still held.
            std::uint64_t resume = oldest() > next + 1 ? oldest() : next + 1;
            std::uint64_t missed = resume - next;
            next = resume;
            return unexpected(broadcast::try_recv_error{broadcast::try_recv_error::lagged, missed});
        }
        if (s.rem == 1 && std::is_nothrow_move_constructible_v<T>) {
            // The last reader: nobody else will look at it.
            expected<T, broadcast::try_recv_error> r(std::in_place, std::move(*s.value));
            s.value.reset();
            s.rem = 0;
            ++next;
            return r;
        }
        expected<T, broadcast::try_recv_error> r(std::in_place, *s.value);
        if (--s.rem == 0)
            s.value.reset();
        ++next;
        return r;
    }

    // A receiver at `next` leaves: it no longer holds back the values it has not read.
    void drop_receiver_locked(std::uint64_t next) noexcept {
        for (std::uint64_t p = next > oldest() ? next : oldest(); p != tail; ++p) {
            slot& s = at(p);
            if (s.pos == p && s.rem > 0 && --s.rem == 0)
                s.value.reset();
        }
        --receivers;
    }
};

} // namespace rt::detail

namespace rt::broadcast {

/// The sending half; copies are further senders of the same channel.
template <class T>
class sender {
public:
    sender(const sender& o) noexcept : s_(o.s_) {
        if (s_) {
            std::lock_guard lock(s_->mu);
            ++s_->senders;
        }
    }
    sender(sender&& o) noexcept = default;
    sender& operator=(const sender& o) noexcept {
        if (this != &o) {
            sender copy(o);
            std::swap(s_, copy.s_);
        }
        return *this;
    }
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            release();
            s_ = std::move(o.s_);
        }
        return *this;
    }
    ~sender() { release(); }

    /// Sends `value` to every receiver subscribed now, overwriting the oldest value when the ring
    /// is full. Gives the number of receivers it reached, or the value back when there are none.
    rt::expected<std::size_t, send_error<T>> send(T value) const {
        rt::detail::pending_wakes wakes;
        std::optional<T> evicted; // destroyed after the unlock
        std::lock_guard lock(s_->mu);
        if (s_->receivers == 0)
            return rt::unexpected(send_error<T>{std::move(value)});
        auto& slot = s_->at(s_->tail);
        evicted.swap(slot.value);
        // Until the new value is in place the slot holds no message: if T's constructor throws,
        // receivers see the evicted one as lost (a lag), never an empty slot.
        slot.pos = rt::detail::broadcast_state<T>::none;
        slot.value.emplace(std::move(value));
        slot.pos = s_->tail;
        slot.rem = s_->receivers;
        ++s_->tail;
        // Every waiting receiver was at the old tail, so each of them now has a value.
        while (rt::detail::waiter* w = s_->waiters.pop_front()) {
            w->notified = true;
            wakes.prepare(w->w);
        }
        return s_->receivers;
    }

    /// A receiver that gets every value sent from now on.
    receiver<T> subscribe() const {
        std::lock_guard lock(s_->mu);
        ++s_->receivers;
        return receiver<T>(s_, s_->tail);
    }

    std::size_t receiver_count() const {
        std::lock_guard lock(s_->mu);
        return s_->receivers;
    }
    /// Values still held for at least one receiver (at most the capacity).
    std::size_t len() const {
        std::lock_guard lock(s_->mu);
        std::size_t n = 0;
        for (std::uint64_t p = s_->oldest(); p != s_->tail; ++p)
            n += s_->at(p).value.has_value() ? 1 : 0;
        return n;
    }
    bool is_empty() const { return len() == 0; }
    std::size_t capacity() const noexcept { return s_->ring.size(); }
    bool same_channel(const sender& o) const noexcept { return s_ == o.s_; }

private:
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(std::size_t);

    explicit sender(std::shared_ptr<rt::detail::broadcast_state<T>> s) noexcept
        : s_(std::move(s)) {}

    void release() noexcept {
        if (!s_)
            return;
        {
            rt::detail::pending_wakes wakes;
            std::lock_guard lock(s_->mu);
            if (--s_->senders == 0) {
                s_->closed = true;
                while (rt::detail::waiter* w = s_->waiters.pop_front()) {
                    w->notified = true;
                    wakes.prepare(w->w);
                }
            }
        }
        s_.reset();
    }

    std::shared_ptr<rt::detail::broadcast_state<T>> s_;
};

/// The receiving half. A copy is a new receiver that starts at the current tail (as
/// resubscribe()); it does not get the values the original has not read yet.
template <class T>
class receiver {
public:
    receiver(const receiver& o) : receiver(o.s_ ? o.resubscribe() : receiver(nullptr, 0)) {}
    receiver(receiver&& o) noexcept : s_(std::move(o.s_)), next_(o.next_) {}
    receiver& operator=(const receiver& o) {
        if (this != &o)
            *this = o.resubscribe();
        return *this;
    }
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            release();
            s_ = std::move(o.s_);
            next_ = o.next_;
        }
        return *this;
    }
    ~receiver() { release(); }

    class recv_awaiter {
    public:
        RT_AWAIT_POINT("broadcast::recv");
        explicit recv_awaiter(receiver& rx) noexcept : rx_(rx) {}
        // Movable until it first suspends (select and timeout move their branches into place).
        recv_awaiter(recv_awaiter&& o) noexcept : rx_(o.rx_) {}
        recv_awaiter(const recv_awaiter&) = delete;
        recv_awaiter& operator=(const recv_awaiter&) = delete;
        ~recv_awaiter() {
            if (!waiting_)
                return;
            // Cancelled while waiting. A wake it was given needs no hand-off: the value is
            // still in the channel for this receiver, and every other waiter got its own wake.
            std::lock_guard lock(rx_.s_->mu);
            if (w_.linked)
                rx_.s_->waiters.remove(&w_);
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            auto& s = *rx_.s_;
            {
                std::lock_guard lock(s.mu);
                if (!s.ready_locked(rx_.next_)) {
                    w_.w = rt::detail::current_waker();
                    s.waiters.push_back(&w_);
                    waiting_ = true;
                    return true;
                }
                if (rt::detail::coop_consume()) {
                    result_.emplace(convert(s.try_recv_locked(rx_.next_)));
                    return false;
                }
            }
            // Out of budget: let others run first; the value stays in the channel meanwhile.
            rt::detail::yield_current();
            return true;
        }
        rt::expected<T, recv_error> await_resume() {
            // Resumed by a send or the close (which unlinked the waiter) or after a yield.
            waiting_ = false;
            if (result_)
                return std::move(*result_);
            std::lock_guard lock(rx_.s_->mu);
            return convert(rx_.s_->try_recv_locked(rx_.next_));
        }

    private:
        static rt::expected<T, recv_error> convert(rt::expected<T, try_recv_error>&& r) {
            if (r)
                return rt::expected<T, recv_error>(std::in_place, std::move(*r));
            // Never empty here: a resumed receive always finds a value, a lag or the close.
            auto kind = r.error().is_lagged() ? recv_error::lagged : recv_error::closed;
            return rt::unexpected(recv_error{kind, r.error().missed});
        }

        receiver& rx_;
        rt::detail::waiter w_;
        std::optional<rt::expected<T, recv_error>> result_;
        bool waiting_ = false;
    };

    /// The next value for this receiver; waits while there is none. Errors: lagged (values were
    /// overwritten; the next recv gives the oldest still held) or closed (no sender, nothing left).
    [[nodiscard("co_await it")]] recv_awaiter recv() noexcept { return recv_awaiter(*this); }

    /// Like recv() without waiting: try_recv_error::empty when nothing new has been sent.
    rt::expected<T, try_recv_error> try_recv() {
        std::lock_guard lock(s_->mu);
        return s_->try_recv_locked(next_);
    }

    /// A new receiver of the same channel that starts at the current tail.
    receiver resubscribe() const {
        std::lock_guard lock(s_->mu);
        ++s_->receivers;
        return receiver(s_, s_->tail);
    }

    /// Values sent that this receiver has not read yet (more than the capacity means a lag).
    std::size_t len() const {
        std::lock_guard lock(s_->mu);
        return static_cast<std::size_t>(s_->tail - next_);
    }
    bool is_empty() const { return len() == 0; }
    /// True when every sender is gone (values may still be left to read).
    bool is_closed() const {
        std::lock_guard lock(s_->mu);
        return s_->closed;
    }
    bool same_channel(const receiver& o) const noexcept { return s_ == o.s_; }

private:
    friend class sender<T>;
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(std::size_t);

    receiver(std::shared_ptr<rt::detail::broadcast_state<T>> s, std::uint64_t next) noexcept
        : s_(std::move(s)), next_(next) {}

    void release() noexcept {
        if (!s_)
            return;
        {
            std::lock_guard lock(s_->mu);
            s_->drop_receiver_locked(next_);
        }
        s_.reset();
    }

    std::shared_ptr<rt::detail::broadcast_state<T>> s_;
    std::uint64_t next_ = 0;
};

/// A channel whose ring holds `capacity` values (at least 1; std::invalid_argument otherwise),
/// with one sender and one receiver.
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
    static_assert(std::is_copy_constructible_v<T>, "every receiver gets a copy: T must copy");
    if (capacity == 0)
        throw std::invalid_argument("rt::broadcast::channel: capacity must be at least 1");
    auto s = std::make_shared<rt::detail::broadcast_state<T>>(capacity);
    return {sender<T>(s), receiver<T>(s, 0)};
}

} // namespace rt::broadcast
