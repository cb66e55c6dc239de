// The reactor: one dedicated thread that waits on the kernel (epoll) and turns expired timers and
// cross-thread kicks into task wakes. It never runs user code: it only marks strands and queues
// tasks on the workers.
//
// Thread roles: `kick()` is called from any thread (an eventfd write); everything else runs on
// the reactor thread. The loop: ask the timer driver for the next deadline, wait for it or for a
// kick, fire what is due, wake the tasks (outside the driver's lock), repeat.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"
#include "rt/introspect/histogram.hpp"

#include <string>
#include <thread>
#include <vector>

namespace rt::detail {

class runtime_impl;
class timer_driver;

class reactor {
public:
    reactor(runtime_impl& rt, timer_driver& timers, std::string thread_name);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    void start();
    /// Stops and joins the thread; idempotent.
    void stop() noexcept;
    /// Interrupts the wait so the loop re-reads the timers (any thread).
    void kick() noexcept;

    std::uint64_t iterations() const noexcept { return iterations_.load(memory_order_relaxed); }
    std::uint64_t timers_fired() const noexcept { return timers_fired_.load(memory_order_relaxed); }
    std::uint64_t kicks() const noexcept { return kicks_.load(memory_order_relaxed); }
    /// Introspection (reactor thread writes, anyone reads); nanoseconds.
    const histogram_recorder& timer_lateness() const noexcept { return lateness_ns_; }
    const histogram_recorder& loop_duration() const noexcept { return loop_ns_; }

private:
    void run();
    void wake_all(std::vector<task_header*>& woken);

    runtime_impl& rt_;
    timer_driver& timers_;
    std::string name_;
    int epoll_fd_ = -1;
    int event_fd_ = -1;
    atomic<bool> stop_{false};
    atomic<std::uint64_t> iterations_{0};
    atomic<std::uint64_t> timers_fired_{0};
    atomic<std::uint64_t> kicks_{0};
    bool recording_;
    histogram_recorder lateness_ns_;
    histogram_recorder loop_ns_;
    std::vector<task_header*> batch_;
    std::thread thread_;
};

} // namespace rt::detail
