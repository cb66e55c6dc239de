// rt::sleep / rt::sleep_until: suspend the current task until a moment has passed.
//
//     co_await rt::sleep(100ms);
//     co_await rt::sleep_until(deadline);
//
// Resolution is 1 ms, and a sleep never ends early: its deadline is rounded up to the next
// millisecond tick. The reactor thread fires expired timers and queues their tasks on the
// workers. Destroying a pending sleep (abort, timeout, select) removes its timer at once.
// A sleep whose deadline has already passed completes without suspending (but counts against
// the task's cooperative budget, so a loop of zero sleeps still yields now and then).
#pragma once

#include "rt/detail/context.hpp"
#include "rt/detail/timer_entry.hpp"
#include "rt/time/clock.hpp"

#include <chrono>
#include <coroutine>
#include <cstdio>
#include <string>

namespace rt {

namespace detail {

class timer_driver;

/// A timer registration: the wheel's link plus who to wake (whose runtime holds the timer).
/// `w.task` is set exactly while the node is registered and its owner has not resumed from it.
struct timer_node {
    timer_entry entry;
    waker w;
};

/// Links `n` for `deadline` in the current runtime's timer driver. False when the deadline has
/// already passed (nothing is registered, `n.w` stays empty). Throws std::runtime_error outside
/// a runtime.
bool timer_register(timer_node& n, clock::time_point deadline);
/// Unlinks `n` if it is still pending; after it returns, `n` will not be touched again.
void timer_cancel(timer_node& n) noexcept;

class sleep_awaiter {
public:
    explicit sleep_awaiter(clock::time_point deadline) noexcept : deadline_(deadline) {}
    sleep_awaiter(sleep_awaiter&& o) noexcept : deadline_(o.deadline_) {}
    sleep_awaiter& operator=(sleep_awaiter&&) = delete;
    // Registered and not resumed from: node_.w.task is set. A sleeping task is one of a million,
    // so the awaiter keeps no flags of its own (the other is timer_entry::holder_flag).
    ~sleep_awaiter() {
        if (node_.w.task != nullptr)
            timer_cancel(node_);
    }

    RT_AWAIT_POINT("sleep");
    void await_describe(std::string& out) const {
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - clock::now());
        char buf[64];
        std::snprintf(buf, sizeof buf, "deadline in %.3f ms",
                      static_cast<double>(left.count()) / 1000.0);
        out = buf;
    }

    bool await_ready() noexcept {
        if (clock::now() < deadline_)
            return false;
        if (coop_consume())
            return true;
        node_.entry.holder_flag = 1; // due, but the budget is spent: yield first
        return false;
    }
    bool await_suspend(std::coroutine_handle<>) {
        if (node_.entry.holder_flag) {
            node_.entry.holder_flag = 0;
            yield_current();
            return true;
        }
        return timer_register(node_, deadline_);
    }
    // After the timer fired: the reactor no longer touches the node (marking our strand, which
    // let us resume, was the last thing it did with what it read from it).
    void await_resume() noexcept { node_.w = waker{}; }

    clock::time_point deadline() const noexcept { return deadline_; }

protected:
    clock::time_point deadline_;

private:
    timer_node node_;
};

} // namespace detail

[[nodiscard("co_await it")]] inline detail::sleep_awaiter
sleep_until(clock::time_point deadline) noexcept {
    return detail::sleep_awaiter(deadline);
}

template <class Rep, class Period>
[[nodiscard("co_await it")]] detail::sleep_awaiter
sleep(std::chrono::duration<Rep, Period> d) noexcept {
    return detail::sleep_awaiter(clock::now() +
                                 std::chrono::ceil<clock::duration>(d < d.zero() ? d.zero() : d));
}

} // namespace rt
