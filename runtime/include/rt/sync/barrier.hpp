// rt::barrier: lets a fixed number of tasks wait for each other, round after round.
//
//     rt::barrier sync(workers);
//     for (;;) {
//         compute_step();
//         auto r = co_await sync.wait();    // returns when all `workers` tasks have arrived
//         if (r.is_leader()) publish();     // exactly one of them per round
//     }
//
// A generation ends when its n-th task arrives: that arrival completes at once and is the
// generation's leader (is_leader() true); the n-1 that waited are woken with is_leader() false.
// The barrier then starts the next generation, so it can be reused indefinitely; a task arriving
// for the next round never joins the previous one. barrier(0) behaves as barrier(1).
// Cancellation: a wait cancelled before its generation completes withdraws its arrival, as if it
// had never called wait(), so the others keep waiting for a full set. One cancelled after its
// generation completed (a timeout that races the last arrival) did count, and its caller cannot
// tell: code that retries a timed-out wait may find itself a round ahead. The leader's result is
// lost only if the leader is cancelled before it resumes, which can happen only when it had
// spent its cooperative budget and yielded first.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace rt {

class barrier {
public:
    explicit barrier(std::size_t n) noexcept : n_(n == 0 ? 1 : n) {}
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;

    /// What a wait() gives back.
    class wait_result {
    public:
        /// True for exactly one task of each generation: the one whose arrival completed it.
        bool is_leader() const noexcept { return leader_; }

    private:
        friend class barrier;
        explicit wait_result(bool leader) noexcept : leader_(leader) {}
        bool leader_;
    };

    class wait_awaiter {
    public:
        RT_AWAIT_POINT("barrier::wait");
        explicit wait_awaiter(barrier& b) noexcept : b_(b) {}
        // Movable until it first suspends (select and timeout move their branches into place).
        wait_awaiter(wait_awaiter&& o) noexcept : b_(o.b_) {}
        wait_awaiter(const wait_awaiter&) = delete;
        wait_awaiter& operator=(const wait_awaiter&) = delete;
        ~wait_awaiter() {
            if (!suspended_ || resumed_)
                return; // a resumed awaiter was unlinked by its waker
            std::lock_guard lk(b_.mu_);
            if (w_.linked) {
                b_.waiters_.remove(&w_);
                --b_.arrived_; // withdraw from the generation that has not completed
            }
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            {
                detail::pending_wakes wakes;
                std::lock_guard lk(b_.mu_);
                if (b_.arrived_ + 1 < b_.n_) {
                    w_.w = detail::current_waker();
                    b_.waiters_.push_back(&w_);
                    ++b_.arrived_;
                    suspended_ = true;
                    return true;
                }
                // The n-th arrival: release this generation and start the next.
                b_.arrived_ = 0;
                ++b_.generation_;
                while (detail::waiter* w = b_.waiters_.pop_front()) {
                    w->notified = true;
                    wakes.prepare(w->w);
                }
                leader_ = true;
            } // wakes fire after unlocking (declared before the lock)
            if (detail::coop_consume())
                return false;
            suspended_ = true;
            detail::yield_current();
            return true;
        }
        wait_result await_resume() noexcept {
            resumed_ = true;
            return wait_result(leader_);
        }

    private:
        barrier& b_;
        detail::waiter w_;
        bool leader_ = false;
        bool suspended_ = false;
        bool resumed_ = false;
    };

    /// Completes when the n-th task of the current generation arrives.
    [[nodiscard("co_await it")]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

    /// How many tasks make a generation.
    std::size_t size() const noexcept { return n_; }
    /// Completed generations so far (a snapshot, for diagnostics).
    std::uint64_t generation() const noexcept {
        std::lock_guard lk(mu_);
        return generation_;
    }

private:
    mutable detail::mutex mu_;
    detail::waiter_queue waiters_;
    const std::size_t n_;
    std::size_t arrived_ = 0;
    std::uint64_t generation_ = 0;
};

} // namespace rt
