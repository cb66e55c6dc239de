// The reactor: one dedicated thread that waits on the kernel (through an io_driver backend) and
// turns I/O readiness, expired timers and cross-thread kicks into task wakes. It never runs user
// code: it only marks strands and queues tasks on the workers.
//
// Thread roles: `kick()` and `driver()` are used from any thread; everything else runs on the
// reactor thread. The loop: ask the timer driver for the next deadline, wait for it, for I/O or
// for a kick, fire what is due, wake the tasks (outside the drivers' locks) in one batch, repeat.
// While workers are awake they take I/O events themselves and the wait watches only timers and
// kicks; the reactor watches I/O again when every worker is parked, or when no worker harvested
// for `watch_check` (see io_driver.hpp).
// At start the thread asks for the highest priority the process may set (SCHED_FIFO, else the
// lowest nice value) and reports what it got through the builder's on_log callback.
#pragma once

#include "introspect/batch_stamp.hpp"
#include "io/io_driver.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"
#include "rt/introspect/histogram.hpp"
#include "rt/sched/runtime.hpp"
#include "rt/time/clock.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace rt::detail {

class runtime_impl;
class timer_driver;

class reactor {
public:
    /// Throws std::system_error when no backend can start.
    reactor(runtime_impl& rt, timer_driver& timers, const runtime_builder& cfg);
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    void start();
    /// Stops and joins the thread; idempotent.
    void stop() noexcept;
    /// Interrupts the wait so the loop re-reads the timers (any thread).
    void kick() noexcept {
        kicks_.fetch_add(1, memory_order_relaxed);
        driver_->unpark();
    }
    /// The I/O backend, for registering descriptors.
    io_driver& driver() noexcept { return *driver_; }

    std::uint64_t iterations() const noexcept { return iterations_.load(memory_order_relaxed); }
    std::uint64_t timers_fired() const noexcept { return timers_fired_.load(memory_order_relaxed); }
    std::uint64_t kicks() const noexcept { return kicks_.load(memory_order_relaxed); }
    /// Tasks woken by readiness on the reactor thread (not those woken by workers' harvests).
    std::uint64_t io_events() const noexcept { return io_events_.load(memory_order_relaxed); }
    /// Introspection (reactor thread writes, anyone reads); nanoseconds.
    const histogram_recorder& timer_lateness() const noexcept { return lateness_ns_; }
    const histogram_recorder& loop_duration() const noexcept { return loop_ns_; }
    /// The stamp of the round under way, for snapshot versions (introspect/batch_stamp.hpp).
    const batch_stamp& round_stamp() const noexcept { return round_stamp_; }

private:
    void run();
    void wake_all(std::vector<task_header*>& woken);
    void log(std::string_view msg) const;
    void keep_watch() noexcept;

    // How long the wait may go without watching the descriptors before the reactor checks that
    // workers still harvest them (a stuck worker would hold their events back).
    static constexpr std::chrono::microseconds watch_check{500};

    runtime_impl& rt_;
    timer_driver& timers_;
    std::string name_;
    std::function<void(std::string_view)> log_;
    std::unique_ptr<io_driver> driver_;
    atomic<bool> stop_{false};
    atomic<std::uint64_t> iterations_{0};
    atomic<std::uint64_t> timers_fired_{0};
    atomic<std::uint64_t> kicks_{0};
    atomic<std::uint64_t> io_events_{0};
    std::uint64_t last_harvests_ = 0;
    clock::time_point last_progress_{};
    bool recording_;
    histogram_recorder lateness_ns_;
    histogram_recorder loop_ns_;
    batch_stamp round_stamp_;
    std::vector<task_header*> batch_;
    std::thread thread_;
};

} // namespace rt::detail
