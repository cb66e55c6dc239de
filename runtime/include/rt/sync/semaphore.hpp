// rt::semaphore: a counting semaphore whose permits come back when the permit object dies.
//
//     rt::semaphore limit(10);               // at most 10 requests in flight
//     auto p = co_await limit.acquire();     // rt::expected<rt::semaphore::permit,
//     if (!p) co_return;                     //              rt::acquire_error>: closed
//     co_await serve(req);                   // the permit is released when p dies
//
//     auto big = co_await limit.acquire(4);  // several permits at once
//     auto now = limit.try_acquire(2);       // error: try_acquire_error::no_permits / closed
//
// Fairness: acquires are served strictly in arrival order. A request at the head of the queue
// waits until its whole count is available, and later requests - even small ones that would fit -
// wait behind it; try_acquire() likewise fails while anyone is waiting. available_permits()
// counts the permits nobody holds, including those set aside while the head waits for more.
// Permits: a permit object releases its count when destroyed (or on release()); forget() drops
// them for good (to shrink the semaphore). add_permits() / release() add new permits.
// close(): every pending and future acquire fails with rt::acquire_error (try_acquire with
// try_acquire_error::closed). Permits already held stay valid and are still returned on release.
// Cancellation: an acquire cancelled while waiting leaves the queue (which may let the requests
// behind it through); one that had already been granted permits but had not yet run returns them,
// so cancellation never loses permits. Destroying the semaphore while permits are out or tasks
// wait is undefined.
// An acquire that can be served at once completes without waiting, but counts against the task's
// cooperative budget: once that is spent it takes the permits and yields before returning.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/expected.hpp"

#include <coroutine>
#include <cstddef>
#include <utility>

namespace rt {

/// The error of an acquire on a closed semaphore.
struct acquire_error {
    const char* what() const noexcept { return "semaphore closed"; }
    friend bool operator==(acquire_error, acquire_error) noexcept { return true; }
};

/// Why try_acquire failed.
enum class try_acquire_error {
    no_permits, // not enough permits now, or someone is waiting ahead
    closed,     // the semaphore was closed
};

class semaphore {
    struct node : detail::waiter {
        std::size_t wanted = 0;
        bool closed = false; // woken by close(), not by a grant
    };

public:
    explicit semaphore(std::size_t permits) noexcept : permits_(permits) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// Some permits of one semaphore; returns them when destroyed.
    class permit {
    public:
        permit() noexcept = default;
        permit(permit&& o) noexcept
            : s_(std::exchange(o.s_, nullptr)), n_(std::exchange(o.n_, 0)) {}
        permit& operator=(permit&& o) noexcept {
            if (this != &o) {
                release();
                s_ = std::exchange(o.s_, nullptr);
                n_ = std::exchange(o.n_, 0);
            }
            return *this;
        }
        permit(const permit&) = delete;
        permit& operator=(const permit&) = delete;
        ~permit() { release(); }

        std::size_t num_permits() const noexcept { return n_; }

        /// Returns the permits now; the object holds none afterwards.
        void release() noexcept {
            if (s_ != nullptr)
                std::exchange(s_, nullptr)->add_permits(std::exchange(n_, 0));
        }
        /// Drops the permits without returning them: the semaphore shrinks by num_permits().
        void forget() noexcept {
            s_ = nullptr;
            n_ = 0;
        }
        /// Takes over the permits of `o`, which must come from the same semaphore (or be empty).
        void merge(permit&& o) noexcept {
            if (o.s_ == nullptr)
                return;
            if (s_ == nullptr)
                s_ = o.s_;
            n_ += std::exchange(o.n_, 0);
            o.s_ = nullptr;
        }

    private:
        friend class semaphore;
        permit(semaphore* s, std::size_t n) noexcept : s_(s), n_(n) {}
        semaphore* s_ = nullptr;
        std::size_t n_ = 0;
    };

    class acquire_awaiter {
    public:
        RT_AWAIT_POINT("semaphore::acquire");
        acquire_awaiter(semaphore& s, std::size_t n) noexcept : s_(s) { n_.wanted = n; }
        // Movable until it first suspends (select and timeout move their branches into place).
        acquire_awaiter(acquire_awaiter&& o) noexcept : s_(o.s_) { n_.wanted = o.n_.wanted; }
        acquire_awaiter(const acquire_awaiter&) = delete;
        acquire_awaiter& operator=(const acquire_awaiter&) = delete;
        ~acquire_awaiter() {
            if (!suspended_ || resumed_)
                return; // a resumed awaiter was unlinked by its waker
            detail::pending_wakes wakes;
            std::lock_guard lk(s_.mu_);
            if (n_.linked) {
                s_.waiters_.remove(&n_);
                s_.grant_locked(wakes); // the requests behind it may fit now
            } else if (n_.notified && !n_.closed) {
                s_.permits_ += n_.wanted; // granted but never ran: give the permits back
                s_.grant_locked(wakes);
            }
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            {
                std::lock_guard lk(s_.mu_);
                if (s_.closed_) {
                    n_.closed = true;
                } else if (!s_.waiters_.empty() || s_.permits_ < n_.wanted) {
                    n_.w = detail::current_waker();
                    s_.waiters_.push_back(&n_);
                    suspended_ = true;
                    return true;
                } else {
                    s_.permits_ -= n_.wanted;
                }
            }
            if (detail::coop_consume())
                return false;
            // Out of budget: keep the permits just taken, let other tasks run first; if cancelled
            // meanwhile, the destructor returns them.
            n_.notified = true;
            suspended_ = true;
            detail::yield_current();
            return true;
        }
        [[nodiscard]] expected<permit, acquire_error> await_resume() noexcept {
            resumed_ = true;
            if (n_.closed)
                return unexpected(acquire_error{});
            return permit(&s_, n_.wanted);
        }

    private:
        semaphore& s_;
        node n_;
        bool suspended_ = false;
        bool resumed_ = false;
    };

    /// Completes with `n` permits once they are available and every earlier request is served,
    /// or with acquire_error if the semaphore is (or gets) closed first. n == 0 is allowed.
    [[nodiscard("co_await it")]] acquire_awaiter acquire(std::size_t n = 1) noexcept {
        return acquire_awaiter(*this, n);
    }

    /// `n` permits now, or why not.
    expected<permit, try_acquire_error> try_acquire(std::size_t n = 1) noexcept {
        std::lock_guard lk(mu_);
        if (closed_)
            return unexpected(try_acquire_error::closed);
        if (!waiters_.empty() || permits_ < n)
            return unexpected(try_acquire_error::no_permits);
        permits_ -= n;
        return permit(this, n);
    }

    /// Adds `n` permits (new ones, or ones taken out with permit::forget()), serving waiters in
    /// order.
    void add_permits(std::size_t n) noexcept {
        detail::pending_wakes wakes;
        std::lock_guard lk(mu_);
        permits_ += n;
        grant_locked(wakes);
    }
    /// Same as add_permits (the std::counting_semaphore name).
    void release(std::size_t n = 1) noexcept { add_permits(n); }

    /// Permits that nobody holds right now (a snapshot).
    std::size_t available_permits() const noexcept {
        std::lock_guard lk(mu_);
        return permits_;
    }

    /// Fails every pending and future acquire. Idempotent.
    void close() noexcept {
        detail::pending_wakes wakes;
        std::lock_guard lk(mu_);
        closed_ = true;
        while (detail::waiter* w = waiters_.pop_front()) {
            static_cast<node*>(w)->closed = true;
            w->notified = true;
            wakes.prepare(w->w);
        }
    }
    bool is_closed() const noexcept {
        std::lock_guard lk(mu_);
        return closed_;
    }

private:
    // Under mu_: serves the queue from its head while the head's whole request fits.
    void grant_locked(detail::pending_wakes& wakes) {
        while (detail::waiter* w = waiters_.front()) {
            auto* n = static_cast<node*>(w);
            if (permits_ < n->wanted)
                return;
            permits_ -= n->wanted;
            waiters_.remove(w);
            w->notified = true;
            wakes.prepare(w->w);
        }
    }

    mutable detail::mutex mu_;
    detail::waiter_queue waiters_;
    std::size_t permits_;
    bool closed_ = false;
};

} // namespace rt
