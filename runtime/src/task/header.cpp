// Reference counting, wakes, aborts and the join handshake on the task state word.
// The protocol is described in rt/detail/task_header.hpp.
#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "rt/task/join_error.hpp"
#include "rt/task/join_handle.hpp"
#include "rt/task/spawn.hpp"
#include "rt/task/this_task.hpp"
#include "task/harness.hpp"
#include "task/sampling.hpp"

#include <stdexcept>
#include <thread>

namespace rt::detail {

using h = task_header;

void ref_inc(task_header* t) noexcept {
    t->state.fetch_add(h::ref_one, memory_order_relaxed);
}

void ref_dec(task_header* t) noexcept {
    std::uint64_t prev = t->state.fetch_sub(h::ref_one, memory_order_acq_rel);
    if (prev / h::ref_one == 1)
        t->vtable->dealloc(t);
}

namespace {

// Inlined into each wake: a call and the thread-local lookup would cost about as much as the
// stamp itself.
[[gnu::always_inline]] inline void count_wake(task_header* t) noexcept {
    if (!t->record)
        return;
    // Wakes from elsewhere are counted by the next poll (single writer, no locked add here);
    // this only stamps the time, and says whether the wake was the task's own.
    thread_context& ctx = tls;
    std::uint64_t now = wake_stamp(ctx);
    if (ctx.task == t) [[unlikely]] {
        bump(t->stats.self_wakes);
        now |= task_stats::self_wake;
    } else if (ctx.in_reactor) {
        now |= task_stats::reactor_wake;
    }
    // An unsampled stamp is the latest reading at hand, often the one the last wake stored: then
    // no store (every store waits in the store buffer for the state change that follows).
    if (t->last_wake_cycles.load(memory_order_relaxed) != now)
        t->last_wake_cycles.store(now, memory_order_relaxed);
}

// Sets NOTIFIED unless the task is finished or already queued. `owned` says whether the caller
// brings a reference. Returns true when the caller must now schedule the task (with a reference).
//
// "Already queued" is decided by a read-modify-write, never by a plain load: the waker marked a
// strand just before (a store), and the poller that dequeues the task clears NOTIFIED with a CAS
// and then reads the mark. With a plain load here, the mark could still sit in this core's store
// buffer while the load sees NOTIFIED and the poller, clearing it, reads no mark: the task would
// go idle with its strand marked and nobody to queue it again. An RMW on `state` (release) is
// ordered before the poller's CAS (acquire) in the word's modification order, so the poller that
// clears NOTIFIED afterwards sees the mark.
bool transition_to_notified(task_header* t, bool owned) noexcept {
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    for (;;) {
        if (prev & h::complete) {
            if (owned)
                ref_dec(t);
            return false;
        }
        if (prev & h::notified) {
            // Queued (or running with a requeue pending): hand back our reference, if any, in
            // the same RMW that confirms it. Never the last reference: the queue entry has one.
            std::uint64_t keep = owned ? prev - h::ref_one : prev;
            if (t->state.compare_exchange_weak(prev, keep, memory_order_acq_rel,
                                               memory_order_relaxed))
                return false;
            continue;
        }
        std::uint64_t next = prev | h::notified;
        bool schedule = !(prev & h::running);
        if (schedule && !owned)
            next += h::ref_one;
        if (!schedule && owned)
            next -= h::ref_one; // the poller's reference covers the running task
        if (t->state.compare_exchange_weak(prev, next, memory_order_acq_rel, memory_order_relaxed))
            return schedule;
    }
}

} // namespace

void wake_by_val(task_header* t) noexcept {
    count_wake(t);
    if (transition_to_notified(t, true))
        t->sched->schedule(t);
}

bool wake_prepare_by_val(task_header* t) noexcept {
    count_wake(t);
    return transition_to_notified(t, true);
}

void wake_by_ref(task_header* t) noexcept {
    count_wake(t);
    if (transition_to_notified(t, false))
        t->sched->schedule(t);
}

void wake(const waker& w) noexcept {
    task_header* t = w.task; // read before the mark: after it, the awaiter holding `w` may be gone
    ref_inc(t);
    if (w.target != nullptr)
        w.target->mark();
    wake_by_val(t);
}

void request_abort(task_header* t) noexcept {
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    for (;;) {
        if (prev & (h::complete | h::cancelled))
            return;
        std::uint64_t next = prev | h::cancelled | h::notified;
        bool schedule = !(prev & (h::running | h::notified));
        if (schedule)
            next += h::ref_one;
        if (t->state.compare_exchange_weak(prev, next, memory_order_acq_rel,
                                           memory_order_relaxed)) {
            if (schedule)
                t->sched->schedule(t);
            return;
        }
    }
}

waker current_waker() {
    thread_context& ctx = tls;
    if (ctx.task == nullptr)
        throw std::logic_error("rt: awaited a runtime operation outside of an rt task");
    ctx.waker_taken = true;
    return waker{ctx.task, ctx.current};
}

void yield_current() noexcept {
    thread_context& ctx = tls;
    if (ctx.current != nullptr)
        ctx.current->mark();
    if (ctx.task == nullptr)
        return;
    // The poller requeues the task when the poll ends (and stamps the wake time then): no state
    // change needed now.
    if (ctx.task->record)
        bump(ctx.task->stats.self_wakes);
    ctx.yield_requested = true;
}

bool join_wait::register_waker(task_header* t, const waker& w) noexcept {
    std::uint64_t prev = t->state.load(memory_order_acquire);
    if (prev & h::complete)
        return true;
    // JOIN_WAKER is clear, so the completing side does not read the field yet.
    t->join_waker = w;
    while (!t->state.compare_exchange_weak(prev, prev | h::join_waker_set, memory_order_acq_rel,
                                           memory_order_acquire)) {
        if (prev & h::complete)
            return true;
    }
    return false;
}

void join_wait::withdraw(task_header* t) noexcept {
    std::uint64_t prev = t->state.load(memory_order_acquire);
    while (!(prev & h::complete)) {
        if (t->state.compare_exchange_weak(prev, prev & ~h::join_waker_set, memory_order_acq_rel,
                                           memory_order_acquire))
            return;
    }
    // The completing thread owns the waker, which points into our frame: wait until it is done.
    while (!(t->state.load(memory_order_acquire) & h::join_woken))
        std::this_thread::yield();
}

void poll_async(task_header* t) {
    if (poll_task(t) == poll_result::notified)
        t->sched->schedule(t);
}

void destroy_async_body(task_header* t) {
    if (t->frame) {
        t->frame.destroy();
        t->frame = {};
    }
}

void strand::resume() {
    thread_context& ctx = tls;
    strand* saved = ctx.current;
    ctx.current = this;
    if (driver != nullptr)
        driver->drive();
    else
        leaf.resume();
    ctx.current = saved;
}

} // namespace rt::detail

namespace rt {

std::string join_error::what() const {
    if (!error_)
        return "task was cancelled";
    try {
        std::rethrow_exception(error_);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "task threw an exception that is not a std::exception";
    }
}

void join_error::rethrow() const {
    if (!error_)
        throw std::logic_error("rt::join_error: task was cancelled");
    std::rethrow_exception(error_);
}

task_id this_task::id() {
    if (detail::tls.task == nullptr)
        throw std::logic_error("rt::this_task::id called outside of a task");
    return detail::tls.task->id;
}

std::optional<task_id> this_task::try_id() noexcept {
    if (detail::tls.task == nullptr)
        return std::nullopt;
    return detail::tls.task->id;
}

} // namespace rt
