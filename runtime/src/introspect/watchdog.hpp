// Catches stalls while they happen: a thread that looks at every compute worker's poll slot
// twice per stall threshold. A poll seen running under one sequence number for longer than
// the threshold is reported (runtime_builder::on_stall) while it still runs, and the worker
// completes the report with the poll's full length when it ends. Detection needs no clock read
// on the worker, so it works whether or not the poll was one of the timed samples.
//
// The watchdog also keeps the runtime's coarse clock (runtime_impl::coarse_cycles), which untimed
// polls use for their stamps. When no worker has polled for a few periods it wakes only every
// idle_period, so an idle runtime stays at ~0% CPU; a stall starting after such a lull is seen
// within one idle period.
//
// Thread roles: each worker alone writes its poll_slot and poll counter (plain stores); the
// watchdog reads them and sets `flagged`.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace rt::detail {

class runtime_impl;

/// What a worker publishes about the poll it is running: the task's id, stored just before the
/// worker's poll counter (worker_stats::polls) moves on, and cleared when the worker parks. The
/// counter serves as a sequence number: a reader trusts `task` when the counter read the same
/// before and after it. No start time: the watchdog measures from when it first saw the poll,
/// which never makes a short poll look long, and costs the worker no clock read.
struct alignas(cache_line) poll_slot {
    atomic<task_id> task{0};        // 0: not polling (parked)
    atomic<bool> flagged{false};    // the watchdog reported the poll under way
    atomic<std::uint64_t> since{0}; // set with `flagged`: when the watchdog first saw that poll

    /// True when the watchdog reported the poll that just ended (the flag is consumed).
    bool take_flag() noexcept {
        return flagged.load(memory_order_relaxed) && flagged.exchange(false, memory_order_acq_rel);
    }
};

class watchdog {
public:
    static constexpr std::chrono::milliseconds idle_period{50};

    /// One per worker: its slot and its poll counter; they must outlive the watchdog.
    struct watched {
        poll_slot* slot;
        const atomic<std::uint64_t>* polls;
    };
    watchdog(runtime_impl& rt, std::vector<watched> workers, std::uint64_t stall_cycles,
             std::chrono::nanoseconds period);
    ~watchdog();
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;

    /// Stops and joins the thread (idempotent).
    void stop() noexcept;

private:
    struct seen {
        std::uint64_t seq = 0;   // the worker's poll count at the last look
        std::uint64_t first = 0; // when it was first seen (cycles)
        bool reported = false;
    };

    void run();
    /// Looks at every slot once; true when some worker polled since the last look.
    bool look(std::uint64_t now);

    runtime_impl& rt_;
    std::vector<watched> workers_;
    std::vector<seen> seen_;
    std::uint64_t stall_cycles_;
    std::chrono::nanoseconds period_;
    mutex mu_;
    condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace rt::detail
