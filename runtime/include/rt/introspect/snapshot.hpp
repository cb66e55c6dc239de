// rt::introspect::snapshot(): a copy of what every task, worker, the blocking pool and the
// reactor of a runtime are doing.
//
//     auto s = rt::introspect::snapshot();              // from inside any task of the runtime
//     auto s = runtime.snapshot();                      // from outside, through the runtime
//     auto d = rt::introspect::snapshot_since(s.version); // later: only tasks changed since
//     auto t = rt::introspect::find_task(id);           // one task by id
//
// "Consistent enough": counters are read without stopping anything, so totals may be off by the
// polls in flight. Each idle task is pinned for the moment its await chain is copied (a wake in
// that moment is delayed, never lost). Recording is on by default; runtime_builder's
// introspection(false) turns it off, and then tasks, counters and histograms come back empty.
#pragma once

#include "rt/introspect/histogram.hpp"
#include "rt/introspect/task_info.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rt::introspect {

struct worker_info {
    std::uint32_t index = 0;
    std::size_t local_queue_depth = 0;
    std::uint64_t lifo = 0; // polls taken from the LIFO slot
    std::uint64_t polls = 0;
    std::uint64_t steals = 0;       // successful steal operations
    std::uint64_t stolen_tasks = 0; // tasks moved by them
    std::uint64_t parks = 0;
    std::uint64_t unparks = 0;
    std::uint64_t overflows = 0; // times half the local queue moved to the global queue
    std::chrono::nanoseconds busy{0};
};

struct blocking_info {
    std::size_t threads = 0;
    std::size_t idle_threads = 0;
    std::size_t queue_depth = 0;
    std::uint64_t tasks_run = 0;
};

/// The reactor thread. Histograms are in nanoseconds.
struct reactor_info {
    std::uint64_t iterations = 0;
    std::uint64_t timer_wakeups = 0; // tasks woken by expired timers
    std::uint64_t kicks = 0;         // cross-thread wake-ups of the reactor (eventfd)
    std::uint64_t io_events = 0;     // readiness events (io_uring; epoll does not count them)
    // Operations submitted to the io_uring ring, by kind (all zero on epoll).
    std::uint64_t ring_stream_reads = 0;  // RECV
    std::uint64_t ring_stream_writes = 0; // SEND
    std::uint64_t ring_file_reads = 0;    // READ
    std::uint64_t ring_file_writes = 0;   // WRITE
    std::uint64_t ring_file_opens = 0;    // OPENAT (fs::file::open/create, fs::read/write)
    std::uint64_t ring_file_stats = 0;    // STATX (fs::metadata, file::metadata)
    std::uint64_t ring_file_unlinks = 0;  // UNLINKAT (fs::remove_file)
    std::uint64_t ring_file_syncs = 0;    // FSYNC (file::sync_all)
    std::uint64_t ring_cancels = 0;       // ASYNC_CANCEL for dropped awaits
    histogram event_to_poll;              // a reactor wake until the woken task's next poll begins
    histogram timer_lateness;             // a timer's firing minus its (millisecond-tick) deadline
    histogram loop_duration; // one loop iteration's work, from wait return to next wait
};

/// Something worth a look, like tokio-console's warnings.
struct finding {
    enum class kind : std::uint8_t {
        stall,              // a poll ran longer than the stall threshold
        scheduled_too_long, // woken but not polled for longer than the scheduling threshold
        lost_waker,         // idle after a poll that registered no waker: nothing can wake it
        self_wakes,         // woke itself in (nearly) every poll
    };
    kind what = kind::stall;
    task_id task = 0;
    std::string name;
    location spawn_location;
    std::chrono::nanoseconds duration{0}; // the stall, or the time scheduled
    std::string message;
};

/// What runtime_builder::on_stall's callback receives: from the watchdog while a worker's poll
/// is still running (`duration` is how long so far), or right after a block_on poll.
struct stall {
    task_id task = 0;
    std::string name;
    location spawn_location;
    std::chrono::nanoseconds duration{0};
    std::uint32_t worker = ~0u; // compute worker index; ~0u when polled elsewhere (block_on...)
};

struct runtime_snapshot {
    /// Pass to snapshot_since() to get only what changed after this snapshot was taken.
    std::uint64_t version = 0;
    std::chrono::steady_clock::time_point taken;
    bool recording = true;
    /// One worker poll in this many is timed (runtime_builder::poll_timing_sample): the busy
    /// and scheduled times and the poll histograms are estimates from those samples.
    std::uint32_t poll_timing_sample = 1;
    std::vector<task_info> tasks; // live ones, then retained finished ones
    std::vector<worker_info> workers;
    std::size_t global_queue_depth = 0;
    blocking_info blocking;
    reactor_info reactor;
    histogram poll_duration;    // polls on the compute workers (sampled, weighted)
    histogram scheduling_delay; // wake to poll, on the compute workers (sampled, weighted)
    std::vector<finding> findings;
};

/// The current runtime's snapshot; throws std::runtime_error outside a runtime.
runtime_snapshot snapshot();
/// Like snapshot(), but `tasks` holds only tasks created, woken, polled or finished after the
/// snapshot whose version is `version` was taken (plus any running now). None is missed; a task
/// that changed shortly before that snapshot (while a poll it was taken during was running, say)
/// may be listed again.
runtime_snapshot snapshot_since(std::uint64_t version);
/// One task of the current runtime, live or retained; nullopt when unknown or dropped.
std::optional<task_info> find_task(task_id id);

} // namespace rt::introspect
