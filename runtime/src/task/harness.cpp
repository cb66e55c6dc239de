#include "task/harness.hpp"

#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"

#include <utility>

namespace rt::detail {

void complete_task(task_header* t) noexcept {
    using h = task_header;
    t->stats.completed_cycles.store(cycle_now(), memory_order_relaxed);
    if (t->sched_owner != nullptr)
        t->sched_owner->tasks.remove(t);
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
    complete_task(t);
}

poll_result poll_task(task_header* t) noexcept {
    using h = task_header;
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    std::uint64_t next;
    do {
        next = (prev & ~h::notified) | h::running;
    } while (
        !t->state.compare_exchange_weak(prev, next, memory_order_acquire, memory_order_relaxed));
    if (prev & h::cancelled) {
        cancel_task(t);
        return poll_result::complete;
    }

    thread_context& ctx = tls;
    task_header* saved_task = ctx.task;
    ctx.task = t;
    ctx.budget = coop_budget;
    ctx.yield_requested = false;
    std::uint64_t start = cycle_now();
    std::uint64_t woke = t->stats.last_wake_cycles.load(memory_order_relaxed);
    if (woke != 0 && start > woke)
        bump(t->stats.scheduled_cycles, start - woke);
    if (t->root.driver != nullptr || t->root.take_ready())
        t->root.resume();
    std::uint64_t end = cycle_now();
    ctx.last_poll_cycles = end - start;
    bump(t->stats.busy_cycles, end - start);
    bump(t->stats.polls);
    ctx.task = saved_task;
    bool yielded = std::exchange(ctx.yield_requested, false);
    if (yielded)
        t->stats.last_wake_cycles.store(end, memory_order_relaxed);

    if (t->frame.done()) {
        t->vtable->finish_body(t);
        complete_task(t);
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

} // namespace rt::detail
