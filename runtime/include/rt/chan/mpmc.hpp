// rt::mpmc: a multi-producer, multi-consumer channel (async-channel's shape). Every message goes
// to exactly one receiver, so several workers can share one queue of jobs.
//
//     auto [tx, rx] = rt::mpmc::channel<job>(64);          // bounded: at most 64 queued
//     rt::spawn(producer(tx));                             // senders and receivers are copyable
//     rt::spawn(worker(rx)); rt::spawn(worker(rx));
//     // producer:  if (auto r = co_await tx.send(j); !r) { /* closed; r.error().value is j */ }
//     // worker:    while (auto j = co_await rx.recv()) run(*j);   // ends once closed and drained
//
//     auto [utx, urx] = rt::mpmc::unbounded_channel<int>();
//     utx.send(1);                                         // never waits: returns at once
//
// Handles: sender<T> (bounded), unbounded_sender<T> and receiver<T> are cheap to copy; each copy
// counts as one live sender or receiver, a moved-from handle counts as none and may only be
// assigned to or destroyed. When the last sender goes the channel closes; receivers still get what
// is queued, then recv() gives an empty optional. When the last receiver goes the channel closes
// and the queued messages are destroyed. close() on either side closes it at once: sends fail
// (the message comes back in the error), receivers drain what is queued. A send awaiter or
// receive awaiter must not outlive the handle it came from.
//
// Ordering and fairness: the queue is FIFO, so messages from one sender arrive in the order sent.
// Receivers waiting for a message are served in the order they began waiting, and a message sent
// while receivers wait is promised to the first of them (a receiver arriving later cannot take
// it). Senders waiting for room in a bounded channel are likewise let in FIFO.
//
// Cancellation (abort, timeout, select): recv() is cancel-safe. A message stays in the channel
// until the receiver it was promised to runs and takes it; a receiver cancelled after being woken
// passes the promise to the next waiting receiver, so the message is not lost. A bounded send that
// is cancelled has sent nothing (its message is destroyed with it), and the room it was promised
// goes to the next waiting sender.
//
// Cost: one short lock per operation. A send or receive that finds the channel ready wakes nobody
// unless someone is waiting on the other side. An operation that completes at once still counts
// against the task's cooperative budget, so a loop that always finds the channel ready still
// yields now and then.
// Messages must be nothrow move constructible.
#pragma once

#include "rt/chan/detail/mpmc_state.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/expected.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace rt::mpmc {

/// Sending failed because the channel is closed; `value` is the message that was not sent.
template <class T>
struct send_error {
    T value;
    const char* what() const noexcept { return "sending on a closed channel"; }
};

/// try_send failed: the channel was full or closed; `value` is the message that was not sent.
template <class T>
struct try_send_error {
    enum class kind : std::uint8_t { full, closed };
    kind reason;
    T value;
    bool is_full() const noexcept { return reason == kind::full; }
    bool is_closed() const noexcept { return reason == kind::closed; }
    const char* what() const noexcept {
        return is_full() ? "sending on a full channel" : "sending on a closed channel";
    }
};

/// try_recv found nothing: `empty` (senders remain, or messages are queued but promised to
/// receivers that were woken first) or `closed` (closed and drained: nothing will ever come).
enum class try_recv_error : std::uint8_t { empty, closed };

} // namespace rt::mpmc

namespace rt::detail {

template <class T>
class mpmc_send_awaiter {
public:
    RT_AWAIT_POINT("mpmc::send");
    void await_describe(std::string& out) const {
        out = "channel ";
        append_address(out, s_);
    }

    mpmc_send_awaiter(mpmc_state<T>* s, T&& v) noexcept : s_(s), value_(std::move(v)) {}
    // Movable until it first suspends (select and timeout move their branches into place).
    mpmc_send_awaiter(mpmc_send_awaiter&& o) noexcept : s_(o.s_), value_(std::move(o.value_)) {}
    mpmc_send_awaiter(const mpmc_send_awaiter&) = delete;
    mpmc_send_awaiter& operator=(const mpmc_send_awaiter&) = delete;
    ~mpmc_send_awaiter() {
        if (!suspended_ || resumed_)
            return;
        pending_wake wake;
        std::lock_guard lock(s_->mu);
        if (w_.linked) {
            s_->waiting_senders.remove(&w_);
        } else if (w_.notified) {
            // Given a slot but cancelled before it ran: the slot goes to the next sender.
            --s_->reserved;
            s_->offer_to_sender(wake);
        }
    }

    bool await_ready() const noexcept { return false; }

    bool await_suspend(std::coroutine_handle<>) {
        pending_wake wake;
        std::lock_guard lock(s_->mu);
        if (s_->closed) {
            failed_ = true;
            return false;
        }
        if (s_->has_room()) {
            if (coop_consume()) {
                s_->queue.push_back(std::move(value_));
                s_->offer_to_receiver(wake);
                return false;
            }
            // Out of budget: keep the slot, yield, and send when run again.
            ++s_->reserved;
            w_.notified = true;
            suspended_ = true;
            yield_current();
            return true;
        }
        w_.w = current_waker();
        suspended_ = true;
        s_->waiting_senders.push_back(&w_);
        return true;
    }

    expected<void, mpmc::send_error<T>> await_resume() {
        if (suspended_) {
            resumed_ = true;
            if (deliver())
                return {};
        } else if (!failed_) {
            return {};
        }
        return unexpected<mpmc::send_error<T>>(mpmc::send_error<T>{std::move(value_)});
    }

private:
    // Run after a wake or a yield: pushes into the reserved slot; false when the channel closed.
    bool deliver() {
        pending_wake wake;
        std::lock_guard lock(s_->mu);
        if (!w_.notified)
            return false; // woken by the close
        w_.notified = false;
        --s_->reserved;
        if (s_->closed)
            return false;
        try {
            s_->queue.push_back(std::move(value_));
        } catch (...) {
            s_->offer_to_sender(wake);
            throw;
        }
        s_->offer_to_receiver(wake);
        return true;
    }

    mpmc_state<T>* s_;
    T value_;
    waiter w_;
    bool suspended_ = false;
    bool resumed_ = false;
    bool failed_ = false;
};

template <class T>
class mpmc_recv_awaiter {
public:
    RT_AWAIT_POINT("mpmc::recv");
    void await_describe(std::string& out) const {
        out = "channel ";
        append_address(out, s_);
    }

    explicit mpmc_recv_awaiter(mpmc_state<T>* s) noexcept : s_(s) {}
    // Movable until it first suspends (select and timeout move their branches into place).
    mpmc_recv_awaiter(mpmc_recv_awaiter&& o) noexcept : s_(o.s_) {}
    mpmc_recv_awaiter(const mpmc_recv_awaiter&) = delete;
    mpmc_recv_awaiter& operator=(const mpmc_recv_awaiter&) = delete;
    ~mpmc_recv_awaiter() {
        if (!suspended_ || resumed_)
            return;
        pending_wake wake;
        std::lock_guard lock(s_->mu);
        if (w_.linked) {
            s_->waiting_receivers.remove(&w_);
        } else if (w_.notified) {
            // Promised a message but cancelled before it ran: the message, still queued, goes to
            // the next waiting receiver.
            --s_->claimed;
            s_->offer_to_receiver(wake);
        }
    }

    bool await_ready() const noexcept { return false; }

    bool await_suspend(std::coroutine_handle<>) {
        pending_wake wake;
        pending_wakes wakes;
        std::lock_guard lock(s_->mu);
        if (s_->has_unclaimed()) {
            if (coop_consume()) {
                s_->queue.pop_front_into(result_);
                s_->after_take(wake, wakes);
                return false;
            }
            // Out of budget: claim the message (it stays queued), yield, take it when run again.
            ++s_->claimed;
            w_.notified = true;
            suspended_ = true;
            yield_current();
            return true;
        }
        if (s_->closed && s_->queue.empty())
            return false;
        w_.w = current_waker();
        suspended_ = true;
        s_->waiting_receivers.push_back(&w_);
        return true;
    }

    std::optional<T> await_resume() {
        if (suspended_) {
            resumed_ = true;
            take_claimed();
        }
        return std::move(result_);
    }

private:
    void take_claimed() {
        pending_wake wake;
        pending_wakes wakes;
        std::lock_guard lock(s_->mu);
        if (!w_.notified)
            return; // woken by the close: the queue is empty for good
        w_.notified = false;
        --s_->claimed;
        s_->queue.pop_front_into(result_);
        s_->after_take(wake, wakes);
    }

    mpmc_state<T>* s_;
    std::optional<T> result_;
    waiter w_;
    bool suspended_ = false;
    bool resumed_ = false;
};

/// What every handle offers: copies counted as live, close and the channel's state.
template <class T, bool IsSender>
class mpmc_handle {
public:
    /// Closes the channel; true if this call closed it (false if it already was).
    bool close() const { return s_->close(); }
    bool is_closed() const {
        std::lock_guard lock(s_->mu);
        return s_->closed;
    }
    /// Messages queued now (including ones promised to woken receivers).
    std::size_t len() const {
        std::lock_guard lock(s_->mu);
        return s_->queue.size();
    }
    bool is_empty() const { return len() == 0; }
    /// The bound of a bounded channel; empty for an unbounded one.
    std::optional<std::size_t> capacity() const noexcept {
        if (s_->bound == mpmc_state<T>::unbounded)
            return std::nullopt;
        return s_->bound;
    }
    std::size_t sender_count() const noexcept { return s_->senders.load(memory_order_relaxed); }
    std::size_t receiver_count() const noexcept { return s_->receivers.load(memory_order_relaxed); }

protected:
    explicit mpmc_handle(mpmc_state<T>* s) noexcept : s_(s) {}
    mpmc_handle(const mpmc_handle& o) noexcept : s_(o.s_) {
        if (s_ == nullptr)
            return;
        if constexpr (IsSender)
            s_->add_sender();
        else
            s_->add_receiver();
    }
    mpmc_handle(mpmc_handle&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    mpmc_handle& operator=(const mpmc_handle& o) noexcept {
        mpmc_handle copy(o);
        std::swap(s_, copy.s_);
        return *this;
    }
    mpmc_handle& operator=(mpmc_handle&& o) noexcept {
        if (this != &o) {
            mpmc_handle old(std::move(*this));
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    ~mpmc_handle() {
        if (s_ == nullptr)
            return;
        if constexpr (IsSender)
            s_->drop_sender();
        else
            s_->drop_receiver();
    }

    mpmc_state<T>* s_;
};

} // namespace rt::detail

namespace rt::mpmc {

template <class T>
class sender;
template <class T>
class unbounded_sender;
template <class T>
class receiver;

template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity);
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel();

/// The sending side of a bounded channel.
template <class T>
class sender : public detail::mpmc_handle<T, true> {
public:
    /// Waits for room, then queues `value`. Gives send_error (with `value`) if the channel is or
    /// becomes closed first. Cancelled, it has sent nothing.
    [[nodiscard("co_await it")]] detail::mpmc_send_awaiter<T> send(T value) const {
        return detail::mpmc_send_awaiter<T>(this->s_, std::move(value));
    }

    /// Queues `value` if there is room now; otherwise gives it back, saying full or closed.
    expected<void, try_send_error<T>> try_send(T value) const {
        using error = try_send_error<T>;
        detail::pending_wake wake;
        std::lock_guard lock(this->s_->mu);
        if (this->s_->closed)
            return unexpected<error>(error{error::kind::closed, std::move(value)});
        if (!this->s_->has_room())
            return unexpected<error>(error{error::kind::full, std::move(value)});
        this->s_->queue.push_back(std::move(value));
        this->s_->offer_to_receiver(wake);
        return {};
    }

    /// No room now (slots promised to woken senders count as taken).
    bool is_full() const {
        std::lock_guard lock(this->s_->mu);
        return !this->s_->has_room();
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t);
    explicit sender(detail::mpmc_state<T>* s) noexcept : detail::mpmc_handle<T, true>(s) {}
};

/// The sending side of an unbounded channel: send never waits.
template <class T>
class unbounded_sender : public detail::mpmc_handle<T, true> {
public:
    /// Queues `value` at once; gives it back in send_error if the channel is closed.
    expected<void, send_error<T>> send(T value) const {
        detail::pending_wake wake;
        std::lock_guard lock(this->s_->mu);
        if (this->s_->closed)
            return unexpected<send_error<T>>(send_error<T>{std::move(value)});
        this->s_->queue.push_back(std::move(value));
        this->s_->offer_to_receiver(wake);
        return {};
    }

private:
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>();
    explicit unbounded_sender(detail::mpmc_state<T>* s) noexcept
        : detail::mpmc_handle<T, true>(s) {}
};

/// The receiving side of either kind of channel.
template <class T>
class receiver : public detail::mpmc_handle<T, false> {
public:
    /// Waits for a message; empty once the channel is closed and drained. Cancel-safe.
    [[nodiscard("co_await it")]] detail::mpmc_recv_awaiter<T> recv() const {
        return detail::mpmc_recv_awaiter<T>(this->s_);
    }

    /// Takes a message if one is queued and not promised to a woken receiver.
    expected<T, try_recv_error> try_recv() const {
        detail::pending_wake wake;
        detail::pending_wakes wakes;
        std::optional<T> out;
        {
            std::lock_guard lock(this->s_->mu);
            if (!this->s_->has_unclaimed()) {
                return unexpected<try_recv_error>(this->s_->closed && this->s_->queue.empty()
                                                      ? try_recv_error::closed
                                                      : try_recv_error::empty);
            }
            this->s_->queue.pop_front_into(out);
            this->s_->after_take(wake, wakes);
        }
        return std::move(*out);
    }

private:
    friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t);
    friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>();
    explicit receiver(detail::mpmc_state<T>* s) noexcept : detail::mpmc_handle<T, false>(s) {}
};

/// A channel holding at most `capacity` messages (at least 1; std::invalid_argument otherwise).
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
    if (capacity == 0)
        throw std::invalid_argument("rt::mpmc::channel: capacity must be at least 1");
    auto* s = new detail::mpmc_state<T>(capacity);
    return {sender<T>(s), receiver<T>(s)};
}

/// A channel without a bound: sending never waits, the queue grows as needed.
template <class T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel() {
    auto* s = new detail::mpmc_state<T>(detail::mpmc_state<T>::unbounded);
    return {unbounded_sender<T>(s), receiver<T>(s)};
}

} // namespace rt::mpmc
