// The queue of a bounded rt::mpsc channel: a fixed ring of `capacity` slots, lock-free on both
// fast paths, with a FIFO of senders that wait for room.
//
// Ring (after crossbeam's ArrayQueue). A position is lap * one_lap + index, one_lap being the
// power of two above the capacity, so advancing never divides. Each slot carries a stamp,
// (position << 2) | state: `free` for the position the slot expects next, then `published` once
// its message is written, `reserved` while it is promised to a waiting sender that has not
// written yet, `skipped` when that sender was cancelled instead. A sender claims a position with
// one CAS on `tail_`, writes, publishes; the receiver, the only reader, takes the message at its
// private head (or steps over a skipped place) and frees the slot for the next lap.
// Bytes per queued message: sizeof(T) plus an 8-byte stamp, rounded up to alignof(T) (16 for an
// 8-byte T); all `capacity` slots are allocated up front.
//
// Waiting senders. A send that finds the ring full links a waiter (FIFO) under the lock and sets
// `slow` in the tail: while anyone waits, lock-free claims fail and every send goes through the
// lock, so newcomers queue behind the waiters. Room goes to the waiters in order: whoever frees a
// slot while senders wait (the receiver, seeing `tx_waiting_`) claims the position at the tail
// for the first waiter (`reserved`) and wakes it; the woken send writes into that position. So
// message order is admission order, and the reservation needs no "slow" mode of its own. A send
// cancelled while it waits in line has sent nothing; one cancelled after its place was reserved
// hands the place back (un-claiming it when it is the last, else marking it `skipped`, which the
// receiver steps over as if it had read a message).
#pragma once

#include "rt/chan/detail/mpsc_shared.hpp"

#include <bit>
#include <cassert>
#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace rt::detail {

/// A sender's waiter: `reserved` says a place in the ring (position `pos`) came with the wake.
struct mpsc_send_waiter : waiter {
    bool reserved = false;
    std::uint64_t pos = 0;
};

template <class T>
class mpsc_bounded final : public mpsc_shared<mpsc_bounded<T>, T> {
    using base = mpsc_shared<mpsc_bounded<T>, T>;
    friend base;

public:
    enum class push_result { ok, full, closed, slow };
    enum class wait_result { sent, closed, waiting, reserved };

    explicit mpsc_bounded(std::size_t capacity)
        : cap_(checked(capacity)), one_lap_(std::bit_ceil(std::uint64_t(capacity) + 1)),
          buf_(new slot[capacity]) {
        for (std::size_t i = 0; i < cap_; ++i)
            buf_[i].stamp.store(stamp(i, st_free), memory_order_relaxed);
    }

    ~mpsc_bounded() {
        // Every reference is gone: no operation is in flight. Destroy what nobody received.
        std::uint64_t end = tail_.load(memory_order_acquire) >> flag_bits;
        for (std::uint64_t pos = head_; pos != end; pos = next(pos)) {
            slot& s = at(pos);
            if (s.stamp.load(memory_order_acquire) == stamp(pos, st_published))
                s.value()->~T();
        }
        delete[] buf_;
    }

    std::size_t capacity() const noexcept { return cap_; }
    bool is_closed() const noexcept { return (tail_.load(memory_order_acquire) & closed_bit) != 0; }

    // ---- senders ----

    /// The lock-free attempt: claims the tail position and writes `v` unless the ring is full,
    /// closed, or senders wait (`slow`). Moves from `v` only on ok.
    push_result try_push_fast(T& v) noexcept {
        std::uint64_t pos;
        bool rx_waiting = false;
        push_result r = claim(false, pos, rx_waiting);
        if (r != push_result::ok)
            return r;
        write(pos, v);
        if (rx_waiting)
            this->wake_rx();
        return r;
    }

    /// try_send: the fast path, then the locked path when senders wait. Never waits itself.
    push_result try_push(T& v) {
        push_result r = try_push_fast(v);
        if (r != push_result::slow)
            return r;
        pending_wakes grants;
        pending_wake rx;
        std::lock_guard lock(this->mu_);
        if (this->closed_)
            return push_result::closed;
        if (!waiters_.empty())
            return push_result::full; // the waiters come first
        // Nobody waits any more (the flag is being cleared): an ordinary claim.
        return push_locked(v, rx, grants);
    }

    /// The locked path of a send: sends at once when there is room and nobody waits before it;
    /// otherwise links `w` (FIFO) and the caller suspends (`waiting`). With `reserve` (a select
    /// branch whose budget is spent), a send that could go at once reserves its place instead
    /// (`reserved`): the caller yields, and writes when resumed.
    wait_result send_wait(mpsc_send_waiter& w, T& v, bool reserve) {
        pending_wakes wakes;
        pending_wake rx;
        std::lock_guard lock(this->mu_);
        if (this->closed_)
            return wait_result::closed;
        w.w = current_waker(); // throws outside a task, before anything changed
        w.notified = false;
        w.reserved = false;
        if (waiters_.empty()) {
            if (reserve) {
                bool ignored;
                if (claim(true, w.pos, ignored) == push_result::ok) {
                    mark(w.pos, st_reserved);
                    w.reserved = true;
                    return wait_result::reserved;
                }
            } else if (push_locked(v, rx, wakes) == push_result::ok) {
                return wait_result::sent;
            }
        }
        waiters_.push_back(&w);
        tail_.fetch_or(slow_bit, memory_order_relaxed);
        // Dekker with the receiver's pop (both sides sequentially consistent): it may have freed
        // a slot without seeing us; then grant_locked() below sees that slot.
        tx_waiting_.store(1, memory_order_seq_cst);
        grant_locked(wakes, &w);
        if (w.reserved) {
            // Room came while we linked; the waiters before us were served first.
            write_reserved_locked(w, v, rx, wakes);
            return wait_result::sent;
        }
        return wait_result::waiting;
    }

    /// A waiting send resumed: writes into its reserved place, or fails (woken by close, or the
    /// receiver is gone).
    bool send_resume(mpsc_send_waiter& w, T& v) {
        pending_wakes grants;
        pending_wake rx;
        std::lock_guard lock(this->mu_);
        if (!w.reserved)
            return false; // close() woke it
        if (this->rx_gone_) {
            give_back_locked(w, rx, grants);
            return false;
        }
        write_reserved_locked(w, v, rx, grants);
        return true;
    }

    /// A waiting send destroyed before it resumed: leaves the line, or gives its place back.
    void send_cancel(mpsc_send_waiter& w) noexcept {
        pending_wakes grants;
        pending_wake rx;
        std::lock_guard lock(this->mu_);
        if (w.linked) {
            waiters_.remove(&w);
            if (waiters_.empty())
                leave_slow_locked();
        } else if (w.reserved) {
            give_back_locked(w, rx, grants);
        }
    }

    // ---- the receiver (see mpsc_shared) ----

    /// Steps over places of cancelled sends at the head.
    void rx_prepare() {
        if (skip_skipped())
            grant_from_receiver();
    }
    bool rx_prepare_locked(pending_wakes& grants) {
        const std::uint64_t before = head_;
        if (skip_skipped())
            grant_locked(grants, nullptr);
        return head_ != before;
    }

    bool head_published() const noexcept {
        return at(head_).stamp.load(memory_order_acquire) == stamp(head_, st_published);
    }

    bool rx_ready() const noexcept {
        if (head_published())
            return true;
        std::uint64_t t = tail_.load(memory_order_acquire);
        return (t & closed_bit) != 0 && (t >> flag_bits) == head_;
    }

    bool claimed() const noexcept {
        // The tail first: a claim seen there is then either published or in flight at the head
        // (or a reservation, whose owner writes under the lock and wakes the receiver itself).
        if ((tail_.load(memory_order_seq_cst) >> flag_bits) == head_)
            return false;
        return at(head_).stamp.load(memory_order_acquire) != stamp(head_, st_reserved);
    }
    bool in_flight() const noexcept {
        return at(head_).stamp.load(memory_order_acquire) == stamp(head_, st_free) &&
               (tail_.load(memory_order_seq_cst) >> flag_bits) != head_;
    }

    /// After rx_ready(): the head message, or nothing at the end of the stream.
    void take(std::optional<T>& out) {
        slot& s = at(head_);
        if (s.stamp.load(memory_order_acquire) != stamp(head_, st_published)) {
            assert((tail_.load(memory_order_relaxed) & closed_bit) != 0);
            out.reset();
            return;
        }
        T* p = s.value();
        out.emplace(std::move(*p));
        p->~T();
        if (release_head())
            grant_from_receiver();
    }

private:
    struct slot {
        atomic<std::uint64_t> stamp;
        alignas(T) unsigned char storage[sizeof(T)];
        T* value() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
    };

    static constexpr std::uint64_t st_free = 0;
    static constexpr std::uint64_t st_published = 1;
    static constexpr std::uint64_t st_reserved = 2;
    static constexpr std::uint64_t st_skipped = 3;

    static constexpr std::uint64_t closed_bit = 1;
    static constexpr std::uint64_t slow_bit = 2;
    static constexpr unsigned flag_bits = 2;

    static std::size_t checked(std::size_t capacity) {
        if (capacity == 0 || capacity > (std::size_t{1} << 31))
            throw std::invalid_argument("rt::mpsc::channel: capacity must be in [1, 2^31]");
        return capacity;
    }

    static std::uint64_t stamp(std::uint64_t pos, std::uint64_t state) noexcept {
        return (pos << 2) | state;
    }
    std::uint64_t index_mask() const noexcept { return one_lap_ - 1; }
    std::uint64_t next(std::uint64_t pos) const noexcept {
        return (pos & index_mask()) + 1 < cap_ ? pos + 1 : (pos & ~index_mask()) + one_lap_;
    }
    slot& at(std::uint64_t pos) const noexcept { return buf_[pos & index_mask()]; }

    /// Claims the tail position. `locked` (the caller holds mu_) may claim while senders wait.
    /// `rx_waiting` tells whether the receiver waited when the claim was made (see mpsc_shared).
    push_result claim(bool locked, std::uint64_t& pos_out, bool& rx_waiting) noexcept {
        std::uint64_t t = tail_.load(memory_order_relaxed);
        for (;;) {
            if (t & closed_bit)
                return push_result::closed;
            if ((t & slow_bit) && !locked)
                return push_result::slow;
            std::uint64_t pos = t >> flag_bits;
            // Sequentially consistent: under the lock this is a waiter's second look (Dekker).
            std::uint64_t st = at(pos).stamp.load(memory_order_seq_cst);
            if (st == stamp(pos, st_free)) {
                std::uint64_t nt = (next(pos) << flag_bits) | (t & slow_bit);
                if (tail_.compare_exchange_weak(t, nt, memory_order_seq_cst,
                                                memory_order_relaxed)) {
                    rx_waiting = this->rx_waiting();
                    pos_out = pos;
                    return push_result::ok;
                }
            } else if ((st >> 2) + one_lap_ == pos) {
                return push_result::full; // last lap's place is still in use
            } else {
                t = tail_.load(memory_order_relaxed); // another sender got there first
            }
        }
    }

    void write(std::uint64_t pos, T& v) noexcept {
        slot& s = at(pos);
        ::new (static_cast<void*>(s.storage)) T(std::move(v));
        s.stamp.store(stamp(pos, st_published), memory_order_release);
    }
    void mark(std::uint64_t pos, std::uint64_t state) noexcept {
        at(pos).stamp.store(stamp(pos, state), memory_order_release);
    }

    /// Under mu_: an ordinary claim and write (nobody waits). Wakes the receiver if it waits.
    push_result push_locked(T& v, pending_wake& rx, pending_wakes& grants) noexcept {
        std::uint64_t pos;
        bool ignored; // under mu_ the receiver is checked through rx_waiter_ instead
        push_result r = claim(true, pos, ignored);
        if (r == push_result::ok) {
            write(pos, v);
            this->wake_rx_locked(rx, grants);
        }
        return r;
    }

    void write_reserved_locked(mpsc_send_waiter& w, T& v, pending_wake& rx,
                               pending_wakes& grants) noexcept {
        w.reserved = false;
        write(w.pos, v);
        this->wake_rx_locked(rx, grants);
    }

    /// Under mu_: a reserved place that will not be written. The last claimed position is
    /// un-claimed (the room is free again at once); an earlier one is marked skipped.
    void give_back_locked(mpsc_send_waiter& w, pending_wake& rx, pending_wakes& grants) noexcept {
        w.reserved = false;
        mark(w.pos, st_free);
        std::uint64_t t = tail_.load(memory_order_relaxed);
        bool unclaimed = false;
        while ((t >> flag_bits) == next(w.pos)) {
            std::uint64_t back = (w.pos << flag_bits) | (t & (slow_bit | closed_bit));
            if (tail_.compare_exchange_weak(t, back, memory_order_seq_cst, memory_order_relaxed)) {
                unclaimed = true;
                break;
            }
        }
        if (!unclaimed)
            mark(w.pos, st_skipped);
        else if (!waiters_.empty())
            grant_locked(grants, nullptr); // the room is there again
        this->wake_rx_locked(rx, grants);
    }

    /// Under mu_: hands room to waiters, front first, reserving their places. `self` (a send
    /// granting from inside its own await_suspend) gets no wake: it is running, and a mark on
    /// its strand would outlive the await.
    void grant_locked(pending_wakes& wakes, mpsc_send_waiter* self) {
        while (!waiters_.empty()) {
            std::uint64_t pos;
            bool ignored;
            if (claim(true, pos, ignored) != push_result::ok)
                break;
            mark(pos, st_reserved);
            auto* w = static_cast<mpsc_send_waiter*>(waiters_.pop_front());
            w->notified = true;
            w->reserved = true;
            w->pos = pos;
            if (w != self)
                wakes.prepare(w->w);
        }
        if (waiters_.empty())
            leave_slow_locked();
    }

    void leave_slow_locked() noexcept {
        tx_waiting_.store(0, memory_order_relaxed);
        tail_.fetch_and(~slow_bit, memory_order_relaxed);
    }

    /// The receiver frees its head slot for the next lap; true when senders wait for room.
    bool release_head() noexcept {
        std::uint64_t pos = head_;
        head_ = next(pos);
        // Dekker with a sender that starts waiting: either it sees this room or we see it. On
        // x86 the store is an xchg, the one barrier a receive pays.
        at(pos).stamp.store(stamp(pos + one_lap_, st_free), memory_order_seq_cst);
        return tx_waiting_.load(memory_order_seq_cst) != 0;
    }

    /// Steps over skipped places at the head; true when that freed room senders wait for.
    bool skip_skipped() noexcept {
        bool grant = false;
        while (at(head_).stamp.load(memory_order_acquire) == stamp(head_, st_skipped))
            grant = release_head() || grant;
        return grant;
    }

    void grant_from_receiver() {
        pending_wakes wakes;
        std::lock_guard lock(this->mu_);
        grant_locked(wakes, nullptr);
    }

    /// Under mu_ from close(): every waiter in line fails. Reserved places stay: their sends
    /// still write (a plain close keeps what was admitted receivable).
    void close_locked(pending_wakes& wakes) {
        tail_.fetch_or(closed_bit, memory_order_acq_rel);
        while (auto* w = static_cast<mpsc_send_waiter*>(waiters_.pop_front())) {
            w->notified = true;
            w->reserved = false;
            wakes.prepare(w->w);
        }
        tx_waiting_.store(0, memory_order_relaxed);
    }

    // Read-only after construction, on a line of their own.
    alignas(cache_line) const std::size_t cap_;
    const std::uint64_t one_lap_;
    slot* const buf_;

    // The senders' line: (position << 2) | slow | closed.
    alignas(cache_line) atomic<std::uint64_t> tail_{0};
    // The receiver's private head (touched by others only under mu_ while the receiver waits).
    alignas(cache_line) std::uint64_t head_ = 0;
    // Read by the receiver after each pop; set while senders wait.
    alignas(cache_line) atomic<std::uint32_t> tx_waiting_{0};
    // Under mu_.
    alignas(cache_line) waiter_queue waiters_;
};

} // namespace rt::detail
