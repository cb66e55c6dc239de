// rt::oneshot: hand one value from one task to another, once.
//
//     auto [tx, rx] = rt::oneshot::channel<int>();
//     rt::spawn([](rt::oneshot::sender<int> tx) -> rt::task<> {
//         std::move(tx).send(compute());                  // immediate; consumes the sender
//     }(std::move(tx)));
//     rt::expected<int, rt::oneshot::recv_error> v = co_await rx;
//
// send() never waits: it stores the value and wakes the receiver. It fails, giving the value back
// in the error, when the receiver is gone. A sender dropped without sending ends the channel:
// the receiver's await gives recv_error. Awaiting the receiver is cancel-safe: the value stays in
// the channel until an await that resumes takes it, so a receiver whose await was cancelled
// (timeout, select, abort of a task that then hands the receiver on) can await again.
// try_recv() takes the value if it is there, without waiting. Once the value was taken, further
// receives give recv_error / try_recv_error::closed.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/expected.hpp"

#include <coroutine>
#include <optional>
#include <utility>

namespace rt::oneshot {

/// The receiver is gone; the value comes back in `value`.
template <class T>
struct send_error {
    T value;
    const char* what() const noexcept { return "oneshot receiver dropped"; }
};

/// The sender was dropped without sending (or the value was already taken).
struct recv_error {
    const char* what() const noexcept { return "oneshot sender dropped without sending"; }
    friend bool operator==(recv_error, recv_error) noexcept { return true; }
};

/// Why try_recv gave nothing: not sent yet, or never will be.
enum class try_recv_error { empty, closed };

namespace detail {

template <class T>
class state {
public:
    // Sender side.
    bool send(T& v) {
        rt::detail::pending_wake wake;
        std::lock_guard lock(mu_);
        if (rx_gone_)
            return false;
        value_.emplace(std::move(v));
        tx_gone_ = true;
        wake_locked(wake);
        return true;
    }
    void drop_sender() noexcept {
        {
            rt::detail::pending_wake wake;
            std::lock_guard lock(mu_);
            tx_gone_ = true;
            wake_locked(wake);
        }
        release();
    }
    bool rx_gone() const noexcept {
        std::lock_guard lock(mu_);
        return rx_gone_;
    }

    // Receiver side.
    bool ready() const noexcept {
        std::lock_guard lock(mu_);
        return tx_gone_;
    }
    /// Links `w` unless the outcome is known; true when linked.
    bool register_waiter(rt::detail::waiter& w) {
        std::lock_guard lock(mu_);
        if (tx_gone_)
            return false;
        w.w = rt::detail::current_waker();
        w.linked = true;
        waiter_ = &w;
        return true;
    }
    void cancel(rt::detail::waiter& w) noexcept {
        std::lock_guard lock(mu_);
        if (w.linked) {
            w.linked = false;
            waiter_ = nullptr;
        }
    }
    std::optional<T> take() {
        std::lock_guard lock(mu_);
        std::optional<T> out = std::move(value_);
        value_.reset();
        return out;
    }
    void drop_receiver() noexcept {
        {
            std::lock_guard lock(mu_);
            rx_gone_ = true;
            value_.reset();
        }
        release();
    }

private:
    void wake_locked(rt::detail::pending_wake& wake) noexcept {
        if (waiter_ == nullptr)
            return;
        rt::detail::waiter* w = std::exchange(waiter_, nullptr);
        w->linked = false;
        w->notified = true;
        wake.prepare(w->w); // last touch of the waiter: it may run once marked
    }
    void release() noexcept {
        if (refs_.fetch_sub(1, rt::detail::memory_order_acq_rel) == 1)
            delete this;
    }

    mutable rt::detail::mutex mu_;
    std::optional<T> value_;
    rt::detail::waiter* waiter_ = nullptr;
    bool tx_gone_ = false; // sent, or dropped without sending
    bool rx_gone_ = false;
    rt::detail::atomic<int> refs_{2};
};

/// co_await rx.
template <class T>
class recv_awaiter {
public:
    explicit recv_awaiter(state<T>* s) noexcept : s_(s) {}
    // Movable until it first suspends (select and timeout move their branches into place).
    recv_awaiter(recv_awaiter&& o) noexcept : s_(o.s_) {}
    recv_awaiter(const recv_awaiter&) = delete;
    recv_awaiter& operator=(const recv_awaiter&) = delete;
    ~recv_awaiter() {
        if (linked_ && !resumed_)
            s_->cancel(w_);
    }

    bool await_ready() const noexcept {
        return s_ == nullptr || (s_->ready() && rt::detail::coop_consume());
    }
    bool await_suspend(std::coroutine_handle<>) {
        if (s_->ready()) {
            // Ready but the budget is spent: come back after the others ran.
            rt::detail::yield_current();
            return true;
        }
        linked_ = s_->register_waiter(w_);
        return linked_;
    }
    rt::expected<T, recv_error> await_resume() {
        resumed_ = true;
        if (s_ != nullptr) {
            if (std::optional<T> v = s_->take())
                return std::move(*v);
        }
        return rt::unexpected(recv_error{});
    }

private:
    state<T>* s_;
    rt::detail::waiter w_;
    bool linked_ = false;
    bool resumed_ = false;
};

} // namespace detail

/// The sending half: send once, or drop to tell the receiver nothing will come.
template <class T>
class sender {
public:
    sender() noexcept = default;
    explicit sender(detail::state<T>* s) noexcept : s_(s) {}
    sender(sender&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            reset();
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    sender(const sender&) = delete;
    sender& operator=(const sender&) = delete;
    ~sender() { reset(); }

    /// Stores `v` for the receiver and wakes it; consumes the sender. Gives `v` back when the
    /// receiver is gone.
    rt::expected<void, send_error<T>> send(T v) && {
        detail::state<T>* s = std::exchange(s_, nullptr);
        bool ok = s->send(v);
        s->drop_sender();
        if (!ok)
            return rt::unexpected(send_error<T>{std::move(v)});
        return {};
    }

    /// True when the receiver is gone (a send would fail).
    bool is_closed() const noexcept { return s_->rx_gone(); }
    bool valid() const noexcept { return s_ != nullptr; }

private:
    void reset() noexcept {
        if (s_ != nullptr)
            std::exchange(s_, nullptr)->drop_sender();
    }
    detail::state<T>* s_ = nullptr;
};

/// The receiving half: co_await it once for the value.
template <class T>
class receiver {
public:
    RT_AWAIT_POINT("oneshot::recv");
    receiver() noexcept = default;
    explicit receiver(detail::state<T>* s) noexcept : s_(s) {}
    receiver(receiver&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            reset();
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() { reset(); }

    /// The value, or recv_error when the sender was dropped without sending.
    detail::recv_awaiter<T> operator co_await() noexcept { return detail::recv_awaiter<T>(s_); }

    /// The value if it was sent; empty while the sender may still send; closed otherwise.
    rt::expected<T, try_recv_error> try_recv() {
        if (s_ == nullptr || !s_->ready())
            return rt::unexpected(s_ == nullptr ? try_recv_error::closed : try_recv_error::empty);
        if (std::optional<T> v = s_->take())
            return std::move(*v);
        return rt::unexpected(try_recv_error::closed);
    }

    bool valid() const noexcept { return s_ != nullptr; }

private:
    void reset() noexcept {
        if (s_ != nullptr)
            std::exchange(s_, nullptr)->drop_receiver();
    }
    detail::state<T>* s_ = nullptr;
};

template <class T>
std::pair<sender<T>, receiver<T>> channel() {
    auto* s = new detail::state<T>();
    return {sender<T>(s), receiver<T>(s)};
}

} // namespace rt::oneshot
