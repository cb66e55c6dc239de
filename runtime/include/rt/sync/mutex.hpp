// rt::mutex<T>: an asynchronous mutex that owns the value it protects.
//
//     rt::mutex<int> m(1);
//     {
//         auto guard = co_await m.lock();   // waits without blocking the worker
//         *guard = 2;
//     }                                     // the guard's destruction unlocks
//     if (auto g = m.try_lock()) ++**g;     // std::optional<rt::mutex<int>::guard>
//
// Use it when the lock must be held across a co_await; for short critical sections that never
// suspend, a plain std::mutex is cheaper.
//
// Fairness: lock() is FIFO. Waiters are granted in arrival order, and unlock() hands ownership
// straight to the first waiter (the mutex never becomes free in between), so a task that calls
// lock() or try_lock() later cannot barge ahead of one already waiting. try_lock() succeeds only
// when the mutex is free, which implies nobody is waiting.
// Cancellation: a lock() that is cancelled while waiting (abort, timeout, select) leaves the
// queue; one that had already been handed the mutex but had not yet run passes it on to the next
// waiter, or unlocks. So cancellation never loses or leaks ownership.
// A lock() that finds the mutex free completes at once, but counts against the task's cooperative
// budget: once that is spent it takes the mutex and yields before returning the guard.
// The guard is movable, not copyable; moving it moves ownership. Destroying the mutex while it is
// locked or has waiters is undefined, as for std::mutex.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"

#include <coroutine>
#include <optional>
#include <type_traits>
#include <utility>

namespace rt {

template <class T>
class mutex {
public:
    mutex() requires std::is_default_constructible_v<T>
    = default;
    explicit mutex(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : value_(std::move(value)) {}
    template <class... Args>
    explicit mutex(std::in_place_t, Args&&... args) : value_(std::forward<Args>(args)...) {}
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    /// Exclusive access to the value; unlocks when destroyed (or on unlock()).
    class guard {
    public:
        guard(guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
        guard& operator=(guard&& o) noexcept {
            if (this != &o) {
                unlock();
                m_ = std::exchange(o.m_, nullptr);
            }
            return *this;
        }
        guard(const guard&) = delete;
        guard& operator=(const guard&) = delete;
        ~guard() { unlock(); }

        T& operator*() const noexcept { return m_->value_; }
        T* operator->() const noexcept { return &m_->value_; }

        /// Releases the mutex early; the guard is empty afterwards.
        void unlock() noexcept {
            if (m_ != nullptr)
                std::exchange(m_, nullptr)->unlock();
        }
        /// False once unlocked or moved from.
        explicit operator bool() const noexcept { return m_ != nullptr; }

    private:
        friend class mutex;
        explicit guard(mutex* m) noexcept : m_(m) {}
        mutex* m_;
    };

    class lock_awaiter {
    public:
        RT_AWAIT_POINT("mutex::lock");
        explicit lock_awaiter(mutex& m) noexcept : m_(m) {}
        // Movable until it first suspends (select and timeout move their branches into place).
        lock_awaiter(lock_awaiter&& o) noexcept : m_(o.m_) {}
        lock_awaiter(const lock_awaiter&) = delete;
        lock_awaiter& operator=(const lock_awaiter&) = delete;
        ~lock_awaiter() {
            if (!suspended_ || resumed_)
                return; // a resumed awaiter was unlinked by its waker
            detail::pending_wake wake;
            std::lock_guard lk(m_.mu_);
            if (w_.linked)
                m_.waiters_.remove(&w_);
            else if (w_.notified)
                m_.release_locked(wake); // owned but never ran: pass the mutex on
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            {
                std::lock_guard lk(m_.mu_);
                if (m_.locked_) {
                    w_.w = detail::current_waker();
                    m_.waiters_.push_back(&w_);
                    suspended_ = true;
                    return true;
                }
                m_.locked_ = true;
            }
            if (detail::coop_consume())
                return false;
            // Out of budget: keep the mutex (it was free, so nobody is passed over) but let
            // other tasks run first. If cancelled meanwhile, the destructor passes it on.
            w_.notified = true;
            suspended_ = true;
            detail::yield_current();
            return true;
        }
        [[nodiscard]] guard await_resume() noexcept {
            resumed_ = true;
            return guard(&m_);
        }

    private:
        mutex& m_;
        detail::waiter w_;
        bool suspended_ = false;
        bool resumed_ = false;
    };

    /// Completes with a guard once this task owns the mutex (FIFO among waiters).
    [[nodiscard("co_await it")]] lock_awaiter lock() noexcept { return lock_awaiter(*this); }

    /// A guard if the mutex is free now; std::nullopt if it is locked (or has waiters).
    std::optional<guard> try_lock() noexcept {
        std::lock_guard lk(mu_);
        if (locked_)
            return std::nullopt;
        locked_ = true;
        return guard(this);
    }

    /// True while some task owns the mutex (a snapshot, for tests and diagnostics).
    bool is_locked() const noexcept {
        std::lock_guard lk(mu_);
        return locked_;
    }

private:
    void unlock() noexcept {
        detail::pending_wake wake;
        std::lock_guard lk(mu_);
        release_locked(wake);
    }

    // Under mu_: hands the mutex to the first waiter, or marks it free.
    void release_locked(detail::pending_wake& wake) noexcept {
        if (detail::waiter* w = waiters_.pop_front()) {
            w->notified = true;
            wake.prepare(w->w);
        } else {
            locked_ = false;
        }
    }

    mutable detail::mutex mu_;
    detail::waiter_queue waiters_;
    bool locked_ = false;
    T value_{};
};

} // namespace rt
