// rt::notify: wake one waiting task, or all of them, without passing data.
//
//     rt::notify ready;
//     // consumer                          // producer
//     co_await ready.notified();           publish(x); ready.notify_one();
//
// notify_one() wakes the longest-waiting task; with nobody waiting it stores one permit, so the
// next notified() completes at once (a notification is never lost between a check and a wait).
// notify_waiters() wakes every task waiting now and stores nothing. notified() is cancel-safe: a
// task woken by notify_one whose wait is cancelled before it runs (abort, timeout, select) hands
// the notification to the next waiter, or back to the permit.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/waiter.hpp"

#include <coroutine>
#include <string>

namespace rt {

class notify {
public:
    notify() = default;
    notify(const notify&) = delete;
    notify& operator=(const notify&) = delete;

    void notify_one() {
        detail::pending_wake wake;
        std::lock_guard lock(mu_);
        if (detail::waiter* w = waiters_.pop_front()) {
            w->notified = true;
            wake.prepare(w->w);
        } else {
            permit_ = true;
        }
    }

    void notify_waiters() {
        detail::pending_wakes wakes;
        std::lock_guard lock(mu_);
        while (detail::waiter* w = waiters_.pop_front()) {
            w->notified = true;
            wakes.prepare(w->w);
        }
    }

    class awaiter {
    public:
        RT_AWAIT_POINT("notify::notified");
        void await_describe(std::string& out) const {
            out = "notify ";
            detail::append_address(out, &n_);
        }

        explicit awaiter(notify& n) noexcept : n_(n) {}
        // Movable until it first suspends (select and timeout move their branches into place).
        awaiter(awaiter&& o) noexcept : n_(o.n_) {}
        awaiter(const awaiter&) = delete;
        awaiter& operator=(const awaiter&) = delete;
        ~awaiter() {
            if (!suspended_ || resumed_)
                return;
            detail::pending_wake wake;
            std::lock_guard lock(n_.mu_);
            if (w_.linked) {
                n_.waiters_.remove(&w_);
            } else if (w_.notified) {
                // Woken but cancelled before it ran: pass the notification on.
                if (detail::waiter* next = n_.waiters_.pop_front()) {
                    next->notified = true;
                    wake.prepare(next->w);
                } else {
                    n_.permit_ = true;
                }
            }
        }
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            std::lock_guard lock(n_.mu_);
            if (n_.permit_) {
                n_.permit_ = false;
                return false;
            }
            w_.w = detail::current_waker();
            n_.waiters_.push_back(&w_);
            suspended_ = true;
            return true;
        }
        void await_resume() noexcept { resumed_ = true; }

    private:
        notify& n_;
        detail::waiter w_;
        bool suspended_ = false;
        bool resumed_ = false;
    };

    /// Completes when notified (or at once if a permit is stored).
    [[nodiscard("co_await it")]] awaiter notified() noexcept { return awaiter(*this); }

private:
    detail::mutex mu_;
    detail::waiter_queue waiters_;
    bool permit_ = false;
};

} // namespace rt
