// What the current thread is doing for rt: which runtime it belongs to, which task and strand it
// is polling, and how much of the cooperative budget the current poll has left.
//
// Set by workers, block_on, blocking threads and select drivers around each resume; read by
// awaitables to find their waker and the runtime's drivers. Plain thread-local data, no locking.
#pragma once

#include "rt/detail/task_header.hpp"

#include <cstdint>

namespace rt::detail {

class runtime_impl;

struct poll_slot;

struct thread_context {
    runtime_impl* runtime = nullptr;
    void* worker = nullptr; // the worker this thread is, when it is one
    task_header* task = nullptr;
    strand* current = nullptr;
    std::uint32_t budget = 0;
    bool yield_requested = false;        // the polled task asked to run again after this poll
    std::uint64_t last_poll_cycles = 0;  // how long the last poll_task on this thread ran
    std::uint64_t last_sched_cycles = 0; // how long that task waited between its wake and poll
    bool last_wake_from_reactor = false; // that wake came from the reactor (set when timed)
    bool waker_taken = false;            // current_waker() was called during this poll
    bool in_reactor = false;             // this thread is a reactor: its wakes are events
    // A recent cycle-clock reading, or 0: while poll_task runs with recording on, the poll's
    // start (then its end). Wakes and spawns made meanwhile use it instead of reading the clock
    // (a read costs tens of ns on a VM), off by at most one poll's duration.
    std::uint64_t now_hint = 0;
    // Set by a worker going straight from one poll to the next: the previous poll's end serves
    // as this poll's start (one clock read less per poll; the few ns in between count as busy).
    // poll_task consumes it. last_poll_end is that end (0 when recording is off).
    std::uint64_t chained_start = 0;
    std::uint64_t last_poll_end = 0;
    // Sampled poll timing (runtime_builder::poll_timing_sample; runtime/src/task/sampling.hpp):
    // a wake made on this thread is drawn for timing when sample_countdown reaches 0, and the
    // countdown restarts from a random gap that averages sample_mask + 1; a mask of 0 (threads
    // that are not workers or the reactor) times every wake. An untimed poll reads no clock:
    // its stamps come from recent_cycles, the latest reading on this thread, or the runtime's
    // coarse clock, whichever is later.
    std::uint32_t sample_mask = 0;
    std::uint32_t sample_rng = 0x9e3779b9u;
    std::uint32_t sample_countdown = 1;
    std::uint64_t recent_cycles = 0;
    // How many polls the last poll_task's timing stands for: sample_mask + 1 when it was timed,
    // 0 when not (then last_poll_cycles and last_sched_cycles are 0 too).
    std::uint64_t last_poll_weight = 0;
    // A worker's slot for the stall watchdog (introspect/watchdog.hpp), with recording on.
    poll_slot* slot = nullptr;
};

extern constinit thread_local thread_context tls;

/// Operations a task may complete without waiting before it is made to yield.
inline constexpr std::uint32_t coop_budget = 128;

/// Spends one unit of the current poll's budget; false when it is exhausted, and the caller
/// must then suspend and reschedule instead of completing at once.
inline bool coop_consume() noexcept {
    if (tls.budget == 0)
        return tls.task == nullptr; // outside a task there is nothing to be fair to
    --tls.budget;
    return true;
}

/// Makes the polling task run again after this poll, at the back of its queue.
void yield_current() noexcept;

/// The runtime of the current thread; throws std::runtime_error naming `what` when there is none.
runtime_impl& current_runtime(const char* what);

} // namespace rt::detail
