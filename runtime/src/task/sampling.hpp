// Which polls are timed, decided when the task is woken.
//
// A clock read costs about as much as a short poll's other bookkeeping, so a worker times only a
// sample of polls (runtime_builder::poll_timing_sample). The sample is drawn at the wake, not at
// the poll: a sampled wake stamps task_header::last_wake_cycles with a fresh reading and the
// `timed_sampled` flag, and the poll it causes reads the clock at its start and end. So every
// timed poll has an exact scheduling delay as well as an exact duration, and the draw is
// independent of both. Each such poll stands for `one_in` polls (the weight the histograms and
// busy/scheduled sums use). Threads with no sampling rate (tls.sample_mask 0: block_on, the
// blocking pool, threads outside the runtime, or a runtime timing every poll) stamp every wake
// exactly with `timed_exact`, weight 1. An unsampled wake stamps the latest reading at hand
// (thread_context::now_hint, or the reactor's or a harvest's recent_cycles), good for the
// millisecond-scale findings.
#pragma once

#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/task_header.hpp"

#include <cstdint>

namespace rt::detail {

/// xorshift32 on the thread's state.
inline std::uint32_t next_random(thread_context& ctx) noexcept {
    std::uint32_t x = ctx.sample_rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ctx.sample_rng = x;
    return x;
}

/// True for the wakes drawn for timing: one in sample_mask + 1 on average. The gaps between
/// drawn wakes are random (uniform on 1 .. 2 * one_in - 1, mean one_in), not every n-th, so a
/// regular pattern of wakes (a ping-pong's two halves) cannot line up with the samples; the
/// random number is drawn only when a gap ends, so most wakes pay a decrement.
inline bool draw_sample(thread_context& ctx) noexcept {
    if (--ctx.sample_countdown != 0)
        return false;
    const std::uint32_t one_in = ctx.sample_mask + 1;
    ctx.sample_countdown = 1 + next_random(ctx) % (2 * one_in - 1);
    return true;
}

/// The stamp (with its timing flag) for a wake made now on this thread.
inline std::uint64_t wake_stamp(thread_context& ctx) noexcept {
    if (ctx.sample_mask == 0)
        return (cycle_now() & ~task_stats::wake_flags) | task_stats::timed_exact;
    if (draw_sample(ctx))
        return (cycle_now() & ~task_stats::wake_flags) | task_stats::timed_sampled;
    // A reading at hand: the start of the poll making the wake, or of the reactor's round or
    // worker's harvest (in_reactor). Snapshot versions count on every such reading being
    // published (introspect/batch_stamp.hpp); anywhere else the clock is read.
    if (ctx.now_hint != 0)
        return ctx.now_hint & ~task_stats::wake_flags;
    if (ctx.in_reactor && ctx.recent_cycles != 0)
        return ctx.recent_cycles & ~task_stats::wake_flags;
    return cycle_now() & ~task_stats::wake_flags;
}

/// How many polls a poll caused by a wake stamped `stamp` stands for: 0 when it is not timed.
inline std::uint64_t poll_weight(std::uint64_t stamp, std::uint32_t sample_mask) noexcept {
    if (stamp & task_stats::timed_sampled)
        return std::uint64_t{sample_mask} + 1;
    return (stamp & task_stats::timed_exact) ? 1 : 0;
}

} // namespace rt::detail
