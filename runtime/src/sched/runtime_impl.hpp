// The runtime's shared state: workers, the global queue, the idle set, the task list, the timer
// driver, the reactor and the blocking pool, and the order in which they start and stop.
//
// Start: timer driver and reactor first (tasks may sleep at once), then the blocking pool (lazy),
// then the workers.
// Shutdown (destructor), in this order and why:
//   1. `shutting_down` is set: wakes stop queueing tasks, new spawns are cancelled on the spot.
//   2. workers are unparked and joined, then the reactor: nothing polls or fires any more.
//   3. the blocking pool drops queued calls (cancelled) and waits for running ones.
//   4. tasks left in queues are taken out; their queue references are dropped after step 5.
//   5. every unfinished task is cancelled on this thread: its frame is destroyed, which runs the
//      awaiters' destructors (they unregister from the still-alive timer driver), and its joiner,
//      if any, sees is_cancelled().
//   6. members are destroyed: workers, reactor, timer driver.
#pragma once

#include "io/reactor.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"
#include "rt/sched/runtime.hpp"
#include "rt/task/spawn.hpp"
#include "sched/blocking_pool.hpp"
#include "sched/idle.hpp"
#include "sched/inject_queue.hpp"
#include "task/retention.hpp"
#include "task/task_list.hpp"
#include "time/timer_driver.hpp"

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace rt::detail {

class worker;
class watchdog;

class runtime_impl final : public scheduler {
public:
    explicit runtime_impl(const runtime_builder& cfg);
    ~runtime_impl();
    runtime_impl(const runtime_impl&) = delete;
    runtime_impl& operator=(const runtime_impl&) = delete;

    /// Queues an async task woken or spawned anywhere: the current worker's queue when called on
    /// one of ours, else the global queue plus a parked worker's wake-up.
    void schedule(task_header* t) override;
    /// Queues many woken tasks of this runtime from a thread outside the pool (the reactor):
    /// one global-queue push and at most one wake-up. `ts` is left empty.
    void schedule_batch(std::vector<task_header*>& ts);
    /// Wakes a parked worker if none is searching.
    void notify_parked();
    /// After the last searcher parks: wake someone if any queue still has work.
    void notify_if_work_pending();

    void init_header(task_header* t, task_kind kind, const task_vtable* vt,
                     const spawn_options& opts, const rt::source_location& loc);

    bool shutting_down() const noexcept { return shutting_down_.load(memory_order_acquire); }
    const runtime_builder& config() const noexcept { return cfg_; }
    std::size_t worker_count() const noexcept { return workers_.size(); }
    worker& worker_at(std::size_t i) noexcept { return *workers_[i]; }

    /// Drives a root task on the calling thread (runtime::block_on).
    void block_on(std::coroutine_handle<> root, const await_record* root_record);

    // ---- introspection (runtime/src/introspect/) ----
    bool recording() const noexcept { return cfg_.introspection_; }
    /// Polls longer than this many cycles are stalls (~0 when recording is off).
    std::uint64_t stall_cycles() const noexcept { return stall_cycles_; }
    /// A poll of `t` ran `cycles`: call on_stall and remember it for snapshots. Cold path.
    void report_stall(task_header* t, std::uint64_t cycles) noexcept;
    /// The watchdog saw worker `w` in one poll of task `id` for `cycles` so far: look the task
    /// up, remember the stall and call on_stall. Cold path.
    void report_live_stall(std::uint32_t w, task_id id, std::uint64_t cycles) noexcept;
    /// A poll the watchdog reported has ended after `cycles`: the finding gets its full length.
    void stall_ended(task_id id, std::uint64_t cycles) noexcept;
    /// The poll_timing_sample mask for workers (one_in - 1; 0 = time every poll).
    std::uint32_t sample_mask() const noexcept { return sample_mask_; }
    /// A clock reading at most one watchdog period old (0 before the first), for stamps made
    /// by polls that read no clock of their own. Seq_cst (a plain load on x86): a snapshot's
    /// version relies on it (see snapshot()).
    std::uint64_t coarse_cycles() const noexcept {
        return coarse_cycles_.load(memory_order_seq_cst);
    }
    const atomic<std::uint64_t>& coarse_clock() const noexcept { return coarse_cycles_; }
    /// Moves the coarse clock up to `now`, never back (the watchdog and snapshots both do).
    void advance_coarse(std::uint64_t now) noexcept {
        std::uint64_t cur = coarse_cycles_.load(memory_order_relaxed);
        while (cur < now && !coarse_cycles_.compare_exchange_weak(cur, now, memory_order_seq_cst,
                                                                  memory_order_relaxed)) {
        }
    }
    /// Takes a finished task off the live list, keeping a record of it when recording (in the
    /// calling worker's ring, task/retention.hpp). Its completed_cycles must be stamped.
    void retire(task_header* t) noexcept;
    introspect::runtime_snapshot snapshot(std::uint64_t since);
    std::optional<introspect::task_info> find_task(task_id id);

    runtime_builder cfg_;
    task_list tasks;
    retention retained; // records of finished tasks (configured with recording on)
    inject_queue inject;
    idle idle_set;
    timer_driver timers;
    reactor io;
    blocking_pool blocking;

private:
    void shutdown() noexcept;
    /// Remembers a stall of `t` (which the caller keeps alive) and calls on_stall. Cold path.
    void publish_stall(const task_header* t, std::uint64_t cycles, std::uint32_t w) noexcept;

    atomic<bool> shutting_down_{false};
    std::vector<std::unique_ptr<worker>> workers_;
    std::uint64_t stall_cycles_ = ~std::uint64_t{0};
    std::uint64_t retain_cycles_ = 0;

    std::uint32_t sample_mask_ = 0;
    // Written by the watchdog and by snapshots (advance_coarse).
    alignas(cache_line) atomic<std::uint64_t> coarse_cycles_{0};
    std::unique_ptr<watchdog> watchdog_;

    mutex stalls_mu_; // guards stalls_; taken only when a stall happened
    std::deque<introspect::finding> stalls_;
};

} // namespace rt::detail
