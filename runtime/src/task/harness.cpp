#include "task/harness.hpp"

#include "detail/cycle_clock.hpp"
#include "introspect/watchdog.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "task/sampling.hpp"

#include <algorithm>
#include <thread>
#include <utility>

namespace rt::detail {

void complete_task(task_header* t, std::uint64_t now) noexcept {
    using h = task_header;
    if (t->outcome == task_outcome_code::none)
        t->outcome = task_outcome_code::ok;
    if (t->record)
        t->stats.completed_cycles.store(now != 0 ? now : cycle_now(), memory_order_relaxed);
    if (t->sched_owner != nullptr)
        t->sched_owner->retire(t);
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    std::uint64_t next;
    do {
        next = (prev & ~(h::running | h::notified)) | h::complete;
    } while (
        !t->state.compare_exchange_weak(prev, next, memory_order_acq_rel, memory_order_relaxed));
    if (prev & h::join_waker_set) {
        wake(t->join_waker);
        t->state.fetch_or(h::join_woken, memory_order_release);
    }
    // The poller's reference and the task's own.
    std::uint64_t before = t->state.fetch_sub(2 * h::ref_one, memory_order_acq_rel);
    if (before / h::ref_one == 2)
        t->vtable->dealloc(t);
}

void cancel_task(task_header* t) noexcept {
    task_header* saved = tls.task;
    tls.task = t;
    t->vtable->destroy_body(t);
    tls.task = saved;
    t->outcome = task_outcome_code::cancelled;
    complete_task(t);
}

namespace {

// A poll the watchdog reported gets its full length when it ends. Only the outermost poll
// (`outer` is the task polling around it, null on a worker): a local set's tasks polled inside
// it are part of it.
void end_reported_stall(thread_context& ctx, const task_header* outer, task_id id) noexcept {
    if (ctx.slot != nullptr && outer == nullptr && ctx.slot->take_flag())
        ctx.runtime->stall_ended(id, cycle_now() - ctx.slot->since.load(memory_order_relaxed));
}

} // namespace

poll_result poll_task(task_header* t) noexcept {
    using h = task_header;
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    std::uint64_t next;
    // Seq_cst, as the coarse clock read below: a snapshot that did not see this RUNNING bit has
    // its version below the stamps of this poll (runtime_impl::snapshot). Same instruction on
    // x86 as acquire.
    do {
        next = (prev & ~h::notified) | h::running;
    } while (
        !t->state.compare_exchange_weak(prev, next, memory_order_seq_cst, memory_order_relaxed));
    thread_context& ctx = tls;
    if (prev & h::cancelled) {
        const task_id id = t->id;
        cancel_task(t);
        end_reported_stall(ctx, ctx.task, id);
        return poll_result::complete;
    }

    task_header* saved_task = ctx.task;
    ctx.task = t;
    ctx.budget = coop_budget;
    ctx.yield_requested = false;
    ctx.waker_taken = false;
    const bool rec = t->record;
    std::uint64_t start = 0;
    // Restores the clock hint of an enclosing poll (a local set polls inside its driver's poll).
    struct hint_guard {
        std::uint64_t& hint;
        std::uint64_t saved;
        ~hint_guard() { hint = saved; }
    } guard{ctx.now_hint, ctx.now_hint};
    std::uint64_t chained = std::exchange(ctx.chained_start, 0);
    std::uint64_t weight = 0; // how many polls this one's timing stands for; 0: untimed
    std::uint64_t delay = 0;
    // Every store here waits in the store buffer for the next locked instruction (the state CAS
    // that ends the poll, or one inside it), so an untimed poll stores only what it must.
    if (rec) {
        // Timed when its wake was drawn (task/sampling.hpp), and always off the workers (block_on
        // polls are few, and their stalls are found by timing them).
        std::uint64_t woke = t->last_wake_cycles.load(memory_order_relaxed);
        weight = poll_weight(woke, ctx.sample_mask);
        if (weight == 0 && ctx.worker == nullptr)
            weight = 1;
        if (weight != 0) {
            // Never below the coarse clock or the task's last poll start, which a snapshot's
            // version may rest on (runtime_impl::snapshot): a chained start is the previous
            // poll's end, read before this poll began, maybe on another task's behalf.
            start = std::max({chained != 0 ? chained : cycle_now(), t->sched_owner->coarse_cycles(),
                              t->stats.poll_start_cycles.load(memory_order_relaxed)});
            ctx.recent_cycles = start;
            t->stats.poll_start_cycles.store(start, memory_order_relaxed);
            ctx.last_wake_from_reactor = (woke & task_stats::reactor_wake) != 0;
            if (woke & (task_stats::timed_sampled | task_stats::timed_exact)) {
                std::uint64_t stamp = woke & ~task_stats::wake_flags;
                delay = start > stamp ? start - stamp : 0;
                bump(t->stats.scheduled_cycles, delay * weight);
            }
        } else {
            // No clock read: the latest reading at hand, kept fresh by the watchdog. It often
            // equals the stamp of the task's previous poll (no fresher reading since): then
            // there is nothing to store. Never below that stamp either (the task may have run
            // on a worker with a fresher reading): a snapshot that reads the previous poll's
            // start while this one begins must not see more than this one's wakes will carry.
            start = std::max(ctx.recent_cycles, t->sched_owner->coarse_cycles());
            const std::uint64_t last = t->stats.poll_start_cycles.load(memory_order_relaxed);
            if (start > last)
                t->stats.poll_start_cycles.store(start, memory_order_relaxed);
            else
                start = last;
        }
        ctx.now_hint = start;
        // Self-woken polls are counted (before polls, see task_stats::wakes()); polls caused by
        // wakes from elsewhere follow from them. A first poll never follows a self-wake.
        if (woke & task_stats::self_wake)
            bump(t->stats.self_woken_polls);
    }
    bool resumed = false;
    if (t->root.driver != nullptr) {
        t->root.resume();
    } else if (t->root.take_ready()) {
        t->root.resume();
        resumed = true;
    }
    ctx.task = saved_task;
    bool yielded = std::exchange(ctx.yield_requested, false);
    std::uint64_t end = 0;
    ctx.last_poll_cycles = 0;
    ctx.last_sched_cycles = delay;
    ctx.last_poll_end = 0;
    ctx.last_poll_weight = 0;
    if (rec) {
        // Untimed polls skip what they can: their end equals their start.
        if (weight != 0) {
            end = cycle_now();
            ctx.recent_cycles = end;
            ctx.now_hint = end;
            ctx.last_poll_end = end;
            ctx.last_poll_cycles = end - start;
            ctx.last_poll_weight = weight;
            bump(t->stats.busy_cycles, (end - start) * weight);
            t->stats.poll_end_cycles.store(end, memory_order_relaxed);
        } else {
            end = start;
        }
        bump(t->stats.polls);
        if (yielded) // a wake like any other: it draws the next poll's timing
            t->last_wake_cycles.store(wake_stamp(ctx) | task_stats::self_wake,
                                      memory_order_relaxed);
        // A poll that resumed the task and left it waiting must have handed out a waker (every
        // rt awaitable takes one through current_waker()); if not, nothing can wake it again.
        if (resumed) {
            bool none = !ctx.waker_taken && !yielded;
            if (t->no_waker.load(memory_order_relaxed) != none)
                t->no_waker.store(none, memory_order_relaxed);
        }
        // A worker's stalls are the watchdog's (introspect/watchdog.hpp); polls elsewhere
        // (block_on) are always timed, and reported here when they end.
        if (weight != 0 && ctx.worker == nullptr && end - start > t->sched_owner->stall_cycles())
            t->sched_owner->report_stall(t, end - start);
    }

    // Before the completion below can wake a joiner that might look at the findings.
    end_reported_stall(ctx, saved_task, t->id);

    if (t->frame.done()) {
        t->vtable->finish_body(t);
        complete_task(t, end);
        return poll_result::complete;
    }
    prev = t->state.load(memory_order_relaxed);
    do {
        next = prev & ~h::running;
        if (yielded)
            next |= h::notified; // the poller's reference becomes the queue entry's
        else if (!(prev & h::notified))
            next -= h::ref_one;
    } while (
        !t->state.compare_exchange_weak(prev, next, memory_order_acq_rel, memory_order_relaxed));
    return (next & h::notified) ? poll_result::notified : poll_result::idle;
}

bool try_pin(task_header* t) noexcept {
    using h = task_header;
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    do {
        // Only an idle task: a NOTIFIED one sits in a run queue, and a poller takes RUNNING
        // without checking it.
        if (prev & (h::running | h::notified | h::complete))
            return false;
    } while (!t->state.compare_exchange_weak(prev, prev | h::running, memory_order_acquire,
                                             memory_order_relaxed));
    return true;
}

void unpin(task_header* t) noexcept {
    using h = task_header;
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    while (!t->state.compare_exchange_weak(prev, prev & ~h::running, memory_order_acq_rel,
                                           memory_order_relaxed)) {
    }
    // A wake or abort that met our RUNNING bit only set NOTIFIED (it left the queueing to the
    // "poller"): our reference becomes the run-queue entry's.
    if (prev & h::notified)
        t->sched->schedule(t);
    else
        ref_dec(t);
}

void acquire_for_cancel(task_header* t, std::uint64_t& prev) noexcept {
    using h = task_header;
    // Only a snapshot can hold RUNNING here (nothing polls any more): wait for it to let go.
    for (;;) {
        prev = t->state.fetch_or(h::running, memory_order_acq_rel);
        if (!(prev & h::running) || (prev & h::complete))
            return;
        std::this_thread::yield();
    }
}

} // namespace rt::detail
