// rt::once_cell<T>: a value set at most once, typically by whichever task needs it first.
//
//     rt::once_cell<config> cfg;
//     const config& c = co_await cfg.get_or_init([] { return load_config(); }); // rt::task<config>
//     if (const config* p = cfg.get()) use(*p);           // nullptr until initialized
//     auto r = cfg.set(config{});                         // rt::expected<void, rt::set_error>
//
// get_or_init(factory) calls factory() - which returns an rt::task<T> (or anything awaitable that
// gives a T) - and stores the result, but only in the first task to arrive at an empty cell; tasks
// arriving while it runs wait for it and then share its value. If the initializing task is
// cancelled, or factory() or its task throws (the exception reaches that task's caller), the
// cell stays empty and the longest-waiting task runs its own factory next. Waiters are served in
// FIFO order; a waiter cancelled while it waits just leaves, and one that had been chosen as the
// next initializer but had not yet run passes that role on.
// The factory object is kept alive until its task completes, so a capturing lambda coroutine is
// fine here (unlike with rt::spawn).
// set(v) fails with set_error::already_initialized, or set_error::initializing while a
// get_or_init is running its factory. get() never waits. The value lives as long as the cell;
// destroying the cell while tasks wait on it is undefined.
//
// co_await on get_or_init gives `const T&`. rt::select and rt::timeout cannot carry a reference
// result, so to race it, wrap it: a task that does `co_return &co_await cell.get_or_init(f);`.
// GCC 12 note: it bitwise-copies a closure temporary written inside a co_await expression, which
// breaks captures such as std::string; name such a factory before the co_await.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/expected.hpp"
#include "rt/task/task.hpp"

#include <coroutine>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace rt {

/// Why once_cell::set failed.
enum class set_error {
    already_initialized, // the cell holds a value
    initializing,        // a get_or_init is running its factory
};

template <class T>
class once_cell {
    enum state : unsigned char { empty, initializing, ready };

    struct node : detail::waiter {
        bool initializer = false; // woken to initialize, not because the value is ready
    };

public:
    once_cell() noexcept = default;
    explicit once_cell(T value) : value_(std::move(value)), state_(ready) {}
    once_cell(const once_cell&) = delete;
    once_cell& operator=(const once_cell&) = delete;

    /// The value, or nullptr if the cell is not initialized yet. Never waits.
    const T* get() const noexcept {
        return state_.load(detail::memory_order_acquire) == ready ? &*value_ : nullptr;
    }
    /// Mutable access; only while no other task can be using the cell.
    T* get_mut() noexcept {
        return state_.load(detail::memory_order_acquire) == ready ? &*value_ : nullptr;
    }
    bool initialized() const noexcept { return get() != nullptr; }

    /// Stores `value` if the cell is empty and nobody is initializing it.
    expected<void, set_error> set(T value) {
        detail::pending_wakes wakes;
        std::lock_guard lk(mu_);
        switch (state_.load(detail::memory_order_relaxed)) {
        case ready:
            return unexpected(set_error::already_initialized);
        case initializing:
            return unexpected(set_error::initializing);
        default:
            break;
        }
        value_.emplace(std::move(value));
        publish_locked(wakes);
        return {};
    }

    template <class F>
    class init_awaitable;

    /// The value, initializing it with co_await factory() if this task is the first to ask.
    template <class F>
    [[nodiscard("co_await it")]] init_awaitable<std::decay_t<F>> get_or_init(F&& factory) {
        return init_awaitable<std::decay_t<F>>(*this, std::forward<F>(factory));
    }

    template <class F>
    class init_awaitable {
        using inner = task<const T*>;

    public:
        RT_AWAIT_POINT("once_cell::get_or_init");
        template <class G>
        init_awaitable(once_cell& c, G&& f) : c_(c), f_(std::forward<G>(f)) {}
        // Movable until it first suspends (select and timeout move their branches into place).
        init_awaitable(init_awaitable&& o) noexcept(std::is_nothrow_move_constructible_v<F>)
            : c_(o.c_), f_(std::move(o.f_)) {}
        init_awaitable(const init_awaitable&) = delete;
        init_awaitable& operator=(const init_awaitable&) = delete;

        bool await_ready() noexcept {
            if (c_.get() == nullptr)
                return false;
            if (detail::coop_consume())
                return true;
            must_yield_ = true;
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
            if (must_yield_) {
                detail::yield_current();
                return std::noop_coroutine();
            }
            // The slow path runs as a nested task, so its frame (and the waits in it) is
            // destroyed with this awaitable when the caller is cancelled.
            t_ = c_.init_impl(std::move(f_));
            return typename inner::awaiter{t_.handle()}.await_suspend(h);
        }
        const T& await_resume() {
            if (!t_.valid())
                return *c_.get();
            return *typename inner::awaiter{t_.handle()}.await_resume();
        }

    private:
        once_cell& c_;
        F f_;
        inner t_;
        bool must_yield_ = false;
    };

private:
    // Completes with true when the caller must initialize the cell, false when it is ready.
    class claim_awaiter {
    public:
        RT_AWAIT_POINT("once_cell::wait");
        explicit claim_awaiter(once_cell& c) noexcept : c_(c) {}
        claim_awaiter(const claim_awaiter&) = delete;
        claim_awaiter& operator=(const claim_awaiter&) = delete;
        ~claim_awaiter() {
            if (!suspended_ || resumed_)
                return; // a resumed awaiter was unlinked by its waker
            detail::pending_wakes wakes;
            std::lock_guard lk(c_.mu_);
            if (n_.linked)
                c_.waiters_.remove(&n_);
            else if (n_.notified && n_.initializer)
                c_.abandon_locked(wakes); // chosen to initialize but never ran: pass it on
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            std::lock_guard lk(c_.mu_);
            switch (c_.state_.load(detail::memory_order_relaxed)) {
            case ready:
                return false;
            case empty:
                c_.state_.store(initializing, detail::memory_order_relaxed);
                n_.initializer = true;
                return false;
            default:
                n_.w = detail::current_waker();
                c_.waiters_.push_back(&n_);
                suspended_ = true;
                return true;
            }
        }
        bool await_resume() noexcept {
            resumed_ = true;
            return n_.initializer;
        }

    private:
        once_cell& c_;
        node n_;
        bool suspended_ = false;
        bool resumed_ = false;
    };

    // Held by the initializer while its factory runs; gives the role up unless it committed.
    struct abandon_guard {
        once_cell& c;
        bool committed = false;
        ~abandon_guard() {
            if (committed)
                return;
            detail::pending_wakes wakes;
            std::lock_guard lk(c.mu_);
            c.abandon_locked(wakes);
        }
    };

    template <class F>
    task<const T*> init_impl(F f) {
        if (co_await claim_awaiter(*this)) {
            abandon_guard g{*this};
            T v = co_await std::invoke(f);
            detail::pending_wakes wakes;
            std::lock_guard lk(mu_);
            value_.emplace(std::move(v));
            publish_locked(wakes);
            g.committed = true;
        }
        co_return &*value_;
    }

    // Under mu_, with value_ set: makes it visible and wakes every waiter.
    void publish_locked(detail::pending_wakes& wakes) {
        state_.store(ready, detail::memory_order_release);
        while (detail::waiter* w = waiters_.pop_front()) {
            w->notified = true;
            wakes.prepare(w->w);
        }
    }

    // Under mu_: the initializer gave up; the first waiter takes over, or the cell is empty again.
    void abandon_locked(detail::pending_wakes& wakes) {
        if (detail::waiter* w = waiters_.pop_front()) {
            static_cast<node*>(w)->initializer = true;
            w->notified = true;
            wakes.prepare(w->w);
        } else {
            state_.store(empty, detail::memory_order_relaxed);
        }
    }

    detail::mutex mu_;
    detail::waiter_queue waiters_;
    std::optional<T> value_;
    detail::atomic<unsigned char> state_{empty};
};

} // namespace rt
