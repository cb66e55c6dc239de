// A compute worker: one thread that polls tasks from its own queue, its LIFO slot, the global
// queue, and other workers' queues (stealing half), and parks when there is nothing to do.
//
// Thread roles: the owner thread alone touches `lifo_`, `searching_`, `tick_` and the owner side
// of `queue_`; other workers use only `stealer_` and `parker_.unpark()`; stats are atomics that
// anyone may read.
//
// Order of looking for work (as Tokio's worker): every 61st tick the global queue first, so a
// busy local queue cannot starve it; then the LIFO slot (a task woken by the one that just ran,
// polled next while its data is hot, at most 3 times in a row); then the local queue; then a batch
// from the global queue; then ready I/O events (taken on this thread, see io/io_driver.hpp); then
// stealing; then a short spin for any of these; then park. Every 61st tick, I/O events too.
#pragma once

#include "introspect/batch_stamp.hpp"
#include "introspect/watchdog.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"
#include "rt/introspect/histogram.hpp"
#include "sched/local_queue.hpp"
#include "sched/parker.hpp"

#include <cstdint>
#include <thread>
#include <vector>

namespace rt::detail {

class runtime_impl;

struct worker_stats {
    atomic<std::uint64_t> polls{0};
    atomic<std::uint64_t> steals{0};       // successful steal operations
    atomic<std::uint64_t> stolen_tasks{0}; // tasks moved by them
    atomic<std::uint64_t> parks{0};
    atomic<std::uint64_t> unparks{0};
    atomic<std::uint64_t> lifo_hits{0};
    atomic<std::uint64_t> overflows{0};
    atomic<std::uint64_t> busy_cycles{0}; // estimated from the timed polls
    // Introspection, in nanoseconds; recorded only with recording on, from the timed polls,
    // each weighing as many polls as it stands for.
    histogram_recorder poll_ns;
    histogram_recorder sched_delay_ns;
    histogram_recorder event_to_poll_ns; // polls after a reactor wake
};

class worker {
public:
    using queue_type = local_queue<task_header, 1024>;

    worker(runtime_impl& rt, std::uint32_t index);
    void start();
    void join();

    /// On this worker's thread: queue a woken (LIFO) or yielding (back of queue) task.
    void schedule_local(task_header* t, bool is_yield);

    void unpark() noexcept { parker_.unpark(); }
    queue_type::stealer& stealer() noexcept { return stealer_; }
    std::uint32_t index() const noexcept { return index_; }
    const worker_stats& stats() const noexcept { return stats_; }
    /// What this worker is polling, for the watchdog (written only with recording on).
    poll_slot& slot() noexcept { return slot_; }
    /// The stamp of the I/O harvest under way, for snapshot versions (introspect/batch_stamp.hpp).
    const batch_stamp& harvest_stamp() const noexcept { return harvest_stamp_; }
    /// Tasks in the local queue (any thread; approximate while the owner runs).
    std::uint32_t queue_depth() const noexcept { return stealer_.len(); }
    /// Drops every queued task's reference (shutdown step 4; the thread has been joined).
    void drain(std::vector<task_header*>& out);

private:
    void run();
    task_header* next_task();
    task_header* steal_work();
    void run_task(task_header* t);
    void park();
    bool spin();
    bool poll_io();
    void push_back(task_header* t);
    std::uint32_t random(std::uint32_t n) noexcept;

    runtime_impl& rt_;
    std::uint32_t index_;
    queue_type queue_;
    queue_type::stealer stealer_;
    parker parker_;
    task_header* lifo_ = nullptr;
    bool searching_ = false;
    std::uint32_t tick_ = 0;
    std::uint32_t rng_;
    std::vector<task_header*> io_woken_; // poll_io's batch, kept for its capacity
    bool io_harvest_ = true;             // the I/O backend lets workers take its events
    void record_poll() noexcept;

    worker_stats stats_;
    poll_slot slot_;
    batch_stamp harvest_stamp_;
    bool recording_;
    double ns_per_tick_;
    std::thread thread_;
};

} // namespace rt::detail
