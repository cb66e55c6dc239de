// rt::rw_lock<T>: an asynchronous reader-writer lock that owns the value it protects.
//
//     rt::rw_lock<config> cfg(load());
//     {
//         auto r = co_await cfg.read();     // shared: many readers at once, const access
//         use(r->port);
//     }
//     {
//         auto w = co_await cfg.write();    // exclusive: waits for the readers to leave
//         w->port = 8080;
//     }
//
// Fairness: requests are served in arrival order. A waiting writer blocks every reader that
// arrives after it, so a stream of readers cannot starve a writer; when a writer leaves, it admits
// the run of readers at the head of the queue (up to the next waiting writer) all at once.
// try_read() / try_write() succeed only when they would not pass anyone waiting.
// Cancellation: a request cancelled while waiting leaves the queue (and if it was a writer, the
// readers queued behind it that can now share the lock are admitted); one that had already been
// granted but had not yet run releases what it was given. Nothing is lost or leaked.
// A request that can be served at once completes without waiting, but counts against the task's
// cooperative budget: once that is spent it takes the access and yields before returning.
// write_guard::downgrade() turns exclusive access into shared access without letting a writer in
// between. Destroying the lock while it is held or has waiters is undefined.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"

#include <coroutine>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace rt {

template <class T>
class rw_lock {
    struct node : detail::waiter {
        bool exclusive = false;
    };

public:
    rw_lock() requires std::is_default_constructible_v<T>
    = default;
    explicit rw_lock(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : value_(std::move(value)) {}
    template <class... Args>
    explicit rw_lock(std::in_place_t, Args&&... args) : value_(std::forward<Args>(args)...) {}
    rw_lock(const rw_lock&) = delete;
    rw_lock& operator=(const rw_lock&) = delete;

    /// Shared, read-only access; releases when destroyed (or on unlock()).
    class read_guard {
    public:
        read_guard(read_guard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
        read_guard& operator=(read_guard&& o) noexcept {
            if (this != &o) {
                unlock();
                l_ = std::exchange(o.l_, nullptr);
            }
            return *this;
        }
        read_guard(const read_guard&) = delete;
        read_guard& operator=(const read_guard&) = delete;
        ~read_guard() { unlock(); }

        const T& operator*() const noexcept { return l_->value_; }
        const T* operator->() const noexcept { return &l_->value_; }

        void unlock() noexcept {
            if (l_ != nullptr)
                std::exchange(l_, nullptr)->release_read();
        }
        explicit operator bool() const noexcept { return l_ != nullptr; }

    private:
        friend class rw_lock;
        explicit read_guard(rw_lock* l) noexcept : l_(l) {}
        rw_lock* l_;
    };

    /// Exclusive access; releases when destroyed (or on unlock()).
    class write_guard {
    public:
        write_guard(write_guard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
        write_guard& operator=(write_guard&& o) noexcept {
            if (this != &o) {
                unlock();
                l_ = std::exchange(o.l_, nullptr);
            }
            return *this;
        }
        write_guard(const write_guard&) = delete;
        write_guard& operator=(const write_guard&) = delete;
        ~write_guard() { unlock(); }

        T& operator*() const noexcept { return l_->value_; }
        T* operator->() const noexcept { return &l_->value_; }

        void unlock() noexcept {
            if (l_ != nullptr)
                std::exchange(l_, nullptr)->release_write();
        }
        explicit operator bool() const noexcept { return l_ != nullptr; }

        /// Becomes a reader atomically (no writer can get in between); also admits the readers
        /// at the head of the queue. This guard is empty afterwards.
        read_guard downgrade() noexcept {
            rw_lock* l = std::exchange(l_, nullptr);
            l->downgrade();
            return read_guard(l);
        }

    private:
        friend class rw_lock;
        explicit write_guard(rw_lock* l) noexcept : l_(l) {}
        rw_lock* l_;
    };

    template <bool Exclusive>
    class lock_awaiter {
    public:
        RT_AWAIT_POINT(Exclusive ? "rw_lock::write" : "rw_lock::read");
        using guard_type = std::conditional_t<Exclusive, write_guard, read_guard>;

        explicit lock_awaiter(rw_lock& l) noexcept : l_(l) { n_.exclusive = Exclusive; }
        // Movable until it first suspends (select and timeout move their branches into place).
        lock_awaiter(lock_awaiter&& o) noexcept : l_(o.l_) { n_.exclusive = Exclusive; }
        lock_awaiter(const lock_awaiter&) = delete;
        lock_awaiter& operator=(const lock_awaiter&) = delete;
        ~lock_awaiter() {
            if (!suspended_ || resumed_)
                return; // a resumed awaiter was unlinked by its waker
            detail::pending_wakes wakes;
            std::lock_guard lk(l_.mu_);
            if (n_.linked) {
                l_.waiters_.remove(&n_);
                l_.grant_locked(wakes); // a writer leaving may unblock the readers behind it
            } else if (n_.notified) {
                // Granted but never ran: give back what it was given.
                if constexpr (Exclusive)
                    l_.writer_ = false;
                else
                    --l_.readers_;
                l_.grant_locked(wakes);
            }
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            {
                std::lock_guard lk(l_.mu_);
                if (!l_.try_take_locked(Exclusive)) {
                    n_.w = detail::current_waker();
                    l_.waiters_.push_back(&n_);
                    suspended_ = true;
                    return true;
                }
            }
            if (detail::coop_consume())
                return false;
            // Out of budget: keep the access just taken, let other tasks run first; if cancelled
            // meanwhile, the destructor gives it back.
            n_.notified = true;
            suspended_ = true;
            detail::yield_current();
            return true;
        }
        [[nodiscard]] guard_type await_resume() noexcept {
            resumed_ = true;
            return guard_type(&l_);
        }

    private:
        rw_lock& l_;
        node n_;
        bool suspended_ = false;
        bool resumed_ = false;
    };

    /// Completes with shared access once no writer holds the lock or waited before this call.
    [[nodiscard("co_await it")]] lock_awaiter<false> read() noexcept {
        return lock_awaiter<false>(*this);
    }
    /// Completes with exclusive access once every earlier holder and waiter is done.
    [[nodiscard("co_await it")]] lock_awaiter<true> write() noexcept {
        return lock_awaiter<true>(*this);
    }

    /// Shared access now, or std::nullopt if a writer holds the lock or anyone is waiting.
    std::optional<read_guard> try_read() noexcept {
        std::lock_guard lk(mu_);
        if (!try_take_locked(false))
            return std::nullopt;
        return read_guard(this);
    }
    /// Exclusive access now, or std::nullopt if the lock is held or anyone is waiting.
    std::optional<write_guard> try_write() noexcept {
        std::lock_guard lk(mu_);
        if (!try_take_locked(true))
            return std::nullopt;
        return write_guard(this);
    }

private:
    // Under mu_: takes access at once if that passes nobody.
    bool try_take_locked(bool exclusive) noexcept {
        if (writer_ || !waiters_.empty())
            return false;
        if (exclusive) {
            if (readers_ != 0)
                return false;
            writer_ = true;
        } else {
            ++readers_;
        }
        return true;
    }

    // Under mu_: grants the head of the queue as far as the lock's state allows, in order.
    void grant_locked(detail::pending_wakes& wakes) {
        while (detail::waiter* w = waiters_.front()) {
            if (writer_)
                return;
            if (static_cast<node*>(w)->exclusive) {
                if (readers_ != 0)
                    return;
                writer_ = true;
            } else {
                ++readers_;
            }
            waiters_.remove(w);
            w->notified = true;
            wakes.prepare(w->w);
        }
    }

    void release_read() noexcept {
        detail::pending_wakes wakes;
        std::lock_guard lk(mu_);
        --readers_;
        grant_locked(wakes);
    }
    void release_write() noexcept {
        detail::pending_wakes wakes;
        std::lock_guard lk(mu_);
        writer_ = false;
        grant_locked(wakes);
    }
    void downgrade() noexcept {
        detail::pending_wakes wakes;
        std::lock_guard lk(mu_);
        writer_ = false;
        ++readers_;
        grant_locked(wakes);
    }

    detail::mutex mu_;
    detail::waiter_queue waiters_;
    std::size_t readers_ = 0;
    bool writer_ = false;
    T value_{};
};

} // namespace rt
