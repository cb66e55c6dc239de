// Snapshots: copies of the runtime's task list, worker counters, pool and reactor statistics,
// and the findings derived from them. Runs on the caller's thread; the runtime never waits for it.
//
// Reading a task: counters are relaxed atomics, read as they are. The await chain lives in the
// task's coroutine frames, which its poller may resume, rewrite or free at any moment; so it is
// read only after try_pin() took the RUNNING bit of an idle task (task/harness.hpp), which keeps
// every poller away until unpin(). The reference collect() took keeps the header alive.
#include "rt/introspect/snapshot.hpp"
#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "sched/worker.hpp"
#include "task/harness.hpp"

#include <algorithm>
#include <exception>

namespace rt::detail {

namespace {

constexpr std::size_t max_kept_stalls = 64;
constexpr int max_chain_depth = 64; // a guard against a cycle from a bug, not a design limit

// Converts cycle-clock stamps to steady_clock times and durations, against one pair of "now"s.
struct clock_pair {
    std::uint64_t cycles = cycle_now();
    std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::now();

    std::chrono::nanoseconds span(std::uint64_t ticks) const noexcept {
        return std::chrono::nanoseconds(static_cast<std::int64_t>(cycles_to_ns(ticks)));
    }
    std::chrono::steady_clock::time_point at(std::uint64_t stamp) const noexcept {
        if (stamp >= cycles)
            return steady + span(stamp - cycles);
        return steady - span(cycles - stamp);
    }
};

introspect::location location_of(const rt::source_location& l) {
    return {l.file_name(), static_cast<std::uint32_t>(l.line()), l.function_name()};
}

std::uint64_t version_of(const task_header* t) noexcept {
    const task_stats& s = t->stats;
    return std::max({s.created_cycles.load(memory_order_relaxed),
                     t->last_wake_cycles.load(memory_order_relaxed) & ~task_stats::wake_flags,
                     s.poll_start_cycles.load(memory_order_relaxed),
                     s.poll_end_cycles.load(memory_order_relaxed),
                     s.completed_cycles.load(memory_order_relaxed)});
}

introspect::task_state state_of(std::uint64_t st) noexcept {
    if (st & task_header::complete)
        return introspect::task_state::done;
    if (st & task_header::running)
        return introspect::task_state::running;
    if (st & task_header::notified)
        return introspect::task_state::scheduled;
    return introspect::task_state::idle;
}

// Root first as stored; reversed to innermost first. Only on a pinned task.
void copy_chain(const await_record* r, std::vector<introspect::await_point>& out) {
    for (int depth = 0; r != nullptr && depth < max_chain_depth; ++depth) {
        introspect::await_point p;
        const await_kind* k = r->kind;
        p.what = k != nullptr && k->what != nullptr ? k->what : "unknown";
        p.file = r->where.file_name();
        p.line = static_cast<std::uint32_t>(r->where.line());
        p.function = r->where.function_name();
        if (k != nullptr && k->describe != nullptr)
            k->describe(r->awaitable, p.detail);
        out.push_back(std::move(p));
        r = k != nullptr && k->child != nullptr ? k->child(r->awaitable) : nullptr;
    }
    std::reverse(out.begin(), out.end());
}

// Fills everything but the chain from `t`'s header; then pins it for the chain if it is idle.
// Consumes the caller's reference on `t`.
introspect::task_info describe_task(task_header* t, const clock_pair& now) {
    introspect::task_info info;
    const task_stats& s = t->stats;
    std::uint64_t st = t->state.load(memory_order_acquire);
    info.id = t->id;
    if (t->name != nullptr)
        info.name = t->name;
    info.kind = t->kind;
    info.state = state_of(st);
    if (info.state == introspect::task_state::done)
        info.outcome = static_cast<introspect::task_outcome>(t->outcome);
    info.polls = s.polls.load(memory_order_relaxed);
    info.spawn_location = location_of(t->location);
    info.parent = t->parent;
    std::uint64_t created = s.created_cycles.load(memory_order_relaxed);
    std::uint64_t completed = s.completed_cycles.load(memory_order_relaxed);
    info.created = now.at(created);
    if (info.state == introspect::task_state::done && completed != 0)
        info.completed = now.at(completed);
    std::uint64_t busy = s.busy_cycles.load(memory_order_relaxed);
    std::uint64_t sched = s.scheduled_cycles.load(memory_order_relaxed);
    info.busy = now.span(busy);
    info.scheduled = now.span(sched);
    std::uint64_t end = info.completed ? completed : now.cycles;
    std::uint64_t life = end > created ? end - created : 0;
    info.idle = now.span(life > busy + sched ? life - busy - sched : 0);
    info.wakes = s.wakes();
    info.self_wakes = s.self_wakes.load(memory_order_relaxed);
    std::uint32_t w = t->last_worker.load(memory_order_relaxed);
    if (w != ~0u)
        info.last_worker = w;
    info.version = version_of(t);
    if (info.state == introspect::task_state::idle && t->vtable->await_root != nullptr &&
        try_pin(t)) {
        // Pinned: the frame can neither run nor end, so its record stays put.
        if (const await_record* root = t->vtable->await_root(t))
            copy_chain(root, info.await_chain);
        unpin(t); // drops our reference, or queues the task with it if woken meanwhile
    } else {
        ref_dec(t);
    }
    return info;
}

void add_findings(const task_header* t, const introspect::task_info& info, const clock_pair& now,
                  std::uint64_t stall_cycles, std::uint64_t scheduled_cycles,
                  std::vector<introspect::finding>& out) {
    using kind = introspect::finding::kind;
    auto add = [&](kind k, std::chrono::nanoseconds d, std::string msg) {
        out.push_back({k, info.id, info.name, info.spawn_location, d, std::move(msg)});
    };
    const task_stats& s = t->stats;
    if (info.state == introspect::task_state::running) {
        std::uint64_t start = s.poll_start_cycles.load(memory_order_relaxed);
        if (now.cycles > start && now.cycles - start > stall_cycles)
            add(kind::stall, now.span(now.cycles - start),
                "poll running longer than the threshold");
    }
    if (info.state == introspect::task_state::scheduled) {
        std::uint64_t woke =
            t->last_wake_cycles.load(memory_order_relaxed) & ~task_stats::wake_flags;
        if (woke != 0 && now.cycles > woke && now.cycles - woke > scheduled_cycles)
            add(kind::scheduled_too_long, now.span(now.cycles - woke),
                "woken but not polled for longer than the threshold");
    }
    if (info.state == introspect::task_state::idle && t->no_waker.load(memory_order_relaxed))
        add(kind::lost_waker, {}, "idle, and its last poll registered no waker");
    if (info.state != introspect::task_state::done && info.polls >= 10 &&
        info.self_wakes + 1 >= info.polls)
        add(kind::self_wakes, {}, "woke itself in every poll");
}

introspect::task_info describe_retired(const retired_task& r, const clock_pair& now) {
    introspect::task_info info;
    info.id = r.id;
    info.name = r.name;
    info.kind = r.kind;
    info.state = introspect::task_state::done;
    info.outcome = static_cast<introspect::task_outcome>(r.outcome);
    info.polls = r.polls;
    info.spawn_location = location_of(r.location);
    info.parent = r.parent;
    info.created = now.at(r.created);
    info.completed = now.at(r.completed);
    info.busy = now.span(r.busy);
    info.scheduled = now.span(r.scheduled);
    std::uint64_t life = r.completed > r.created ? r.completed - r.created : 0;
    info.idle = now.span(life > r.busy + r.scheduled ? life - r.busy - r.scheduled : 0);
    info.wakes = r.wakes;
    info.self_wakes = r.self_wakes;
    if (r.last_worker != retired_task::no_worker)
        info.last_worker = r.last_worker;
    info.version = r.completed;
    return info;
}

introspect::histogram merged(const introspect::histogram& a, const introspect::histogram& b) {
    introspect::histogram h = a;
    h.merge(b);
    return h;
}

} // namespace

void runtime_impl::retire(task_header* t) noexcept {
    // The record first: a snapshot reads the live list before the rings, so it sees the task in
    // one or both, never in neither.
    if (t->record && t->kind != task_kind::block_on && retained.enabled()) {
        const thread_context& ctx = tls;
        if (ctx.runtime == this && ctx.worker != nullptr)
            retained.keep_on_worker(static_cast<const worker*>(ctx.worker)->index(), t);
        else
            retained.keep_shared(t);
    }
    tasks.remove(t);
}

void runtime_impl::report_stall(task_header* t, std::uint64_t cycles) noexcept {
    std::uint32_t w = ~0u;
    if (tls.worker != nullptr && tls.runtime == this)
        w = static_cast<worker*>(tls.worker)->index();
    publish_stall(t, cycles, w);
}

void runtime_impl::report_live_stall(std::uint32_t w, task_id id, std::uint64_t cycles) noexcept {
    // The slot gave only an id: the live list hands out a reference, so the name is read from a
    // header that cannot be freed meanwhile. A task that finished since is no stall.
    task_header* t = tasks.find_live(id);
    if (t == nullptr)
        return;
    publish_stall(t, cycles, w);
    ref_dec(t);
}

void runtime_impl::publish_stall(const task_header* t, std::uint64_t cycles,
                                 std::uint32_t w) noexcept {
    try {
        introspect::stall s;
        s.task = t->id;
        if (t->name != nullptr)
            s.name = t->name;
        s.spawn_location = location_of(t->location);
        s.duration = std::chrono::nanoseconds(static_cast<std::int64_t>(cycles_to_ns(cycles)));
        s.worker = w;
        {
            std::lock_guard lock(stalls_mu_);
            stalls_.push_back({introspect::finding::kind::stall, s.task, s.name, s.spawn_location,
                               s.duration, "a poll ran longer than the stall threshold"});
            if (stalls_.size() > max_kept_stalls)
                stalls_.pop_front();
        }
        if (cfg_.on_stall_)
            cfg_.on_stall_(s);
    } catch (...) {
        // A report must never take the worker down: a throwing callback loses this report only.
    }
}

void runtime_impl::stall_ended(task_id id, std::uint64_t cycles) noexcept {
    auto d = std::chrono::nanoseconds(static_cast<std::int64_t>(cycles_to_ns(cycles)));
    std::lock_guard lock(stalls_mu_);
    for (auto it = stalls_.rbegin(); it != stalls_.rend(); ++it) {
        if (it->what == introspect::finding::kind::stall && it->task == id) {
            it->duration = std::max(it->duration, d);
            return;
        }
    }
}

introspect::runtime_snapshot runtime_impl::snapshot(std::uint64_t since) {
    introspect::runtime_snapshot snap;
    clock_pair now;
    // The version: no change made after this snapshot may carry a lower stamp. Stamps reuse
    // readings taken earlier (task/sampling.hpp), so it is the lowest of this reading, the
    // coarse clock as polls will read it from here on (moved up to this reading first), the
    // start of every poll under way (its wakes and spawns carry it), and the start of every
    // reactor round or I/O harvest under way (introspect/batch_stamp.hpp). A version a little
    // older than the snapshot lists a few tasks twice; a newer one would lose changes.
    std::uint64_t version = now.cycles;
    if (recording()) {
        advance_coarse(now.cycles);
        auto lower_to_batch = [&version](const batch_stamp& b) {
            if (std::uint64_t s = b.current(); s != 0)
                version = std::min(version, s);
        };
        lower_to_batch(io.round_stamp());
        for (const auto& w : workers_)
            lower_to_batch(w->harvest_stamp());
    }
    snap.taken = now.steady;
    snap.recording = recording();
    snap.poll_timing_sample = sample_mask_ + 1;

    for (std::size_t i = 0; i < workers_.size(); ++i) {
        const worker& w = *workers_[i];
        const worker_stats& ws = w.stats();
        introspect::worker_info wi;
        wi.index = static_cast<std::uint32_t>(i);
        wi.local_queue_depth = w.queue_depth();
        wi.lifo = ws.lifo_hits.load(memory_order_relaxed);
        wi.polls = ws.polls.load(memory_order_relaxed);
        wi.steals = ws.steals.load(memory_order_relaxed);
        wi.stolen_tasks = ws.stolen_tasks.load(memory_order_relaxed);
        wi.parks = ws.parks.load(memory_order_relaxed);
        wi.unparks = ws.unparks.load(memory_order_relaxed);
        wi.overflows = ws.overflows.load(memory_order_relaxed);
        wi.busy = now.span(ws.busy_cycles.load(memory_order_relaxed));
        snap.workers.push_back(wi);
    }
    snap.global_queue_depth = inject.len();
    blocking_stats bs = blocking.stats();
    snap.blocking = {bs.threads, bs.idle_threads, bs.queue_depth, bs.tasks_run};
    snap.reactor.iterations = io.iterations();
    snap.reactor.timer_wakeups = io.timers_fired();
    snap.reactor.kicks = io.kicks();
    snap.reactor.io_events = io.io_events();
    io_driver_stats ds = io.driver().stats();
    snap.reactor.ring_stream_reads = ds.stream_reads;
    snap.reactor.ring_stream_writes = ds.stream_writes;
    snap.reactor.ring_file_reads = ds.file_reads;
    snap.reactor.ring_file_writes = ds.file_writes;
    snap.reactor.ring_file_opens = ds.file_opens;
    snap.reactor.ring_file_stats = ds.file_stats;
    snap.reactor.ring_file_unlinks = ds.file_unlinks;
    snap.reactor.ring_file_syncs = ds.file_syncs;
    snap.reactor.ring_cancels = ds.cancels;
    if (!recording()) {
        snap.version = now.cycles | 1;
        return snap;
    }

    snap.reactor.timer_lateness = io.timer_lateness().snapshot();
    snap.reactor.loop_duration = io.loop_duration().snapshot();
    for (auto& w : workers_) {
        const worker_stats& ws = w->stats();
        snap.poll_duration = merged(snap.poll_duration, ws.poll_ns.snapshot());
        snap.scheduling_delay = merged(snap.scheduling_delay, ws.sched_delay_ns.snapshot());
        snap.reactor.event_to_poll =
            merged(snap.reactor.event_to_poll, ws.event_to_poll_ns.snapshot());
    }

    std::uint64_t sched_cycles = static_cast<std::uint64_t>(
        static_cast<double>(cfg_.scheduled_threshold_.count()) / cycle_ns_per_tick());
    for (task_header* t : tasks.collect()) {
        // Seq_cst, as the poller's RUNNING exchange: a poll this does not see started after
        // the coarse clock moved, and its stamps are above the version.
        std::uint64_t st = t->state.load(memory_order_seq_cst);
        if (st & task_header::running)
            version = std::min(version, t->stats.poll_start_cycles.load(memory_order_relaxed));
        if (since != 0 && !(st & task_header::running) && version_of(t) < since) {
            ref_dec(t);
            continue;
        }
        ref_inc(t); // describe_task consumes one; findings still read the header
        introspect::task_info info = describe_task(t, now);
        add_findings(t, info, now, stall_cycles_, sched_cycles, snap.findings);
        ref_dec(t);
        snap.tasks.push_back(std::move(info));
    }
    // A task that finished while we read the live list may be in both: keep the live entry.
    std::vector<task_id> live;
    live.reserve(snap.tasks.size());
    for (const auto& t : snap.tasks)
        live.push_back(t.id);
    std::sort(live.begin(), live.end());
    for (const retired_task& r : retained.collect(now.cycles))
        if ((since == 0 || r.completed >= since) &&
            !std::binary_search(live.begin(), live.end(), r.id))
            snap.tasks.push_back(describe_retired(r, now));
    {
        std::lock_guard lock(stalls_mu_);
        snap.findings.insert(snap.findings.end(), stalls_.begin(), stalls_.end());
    }
    snap.version = std::max<std::uint64_t>(version, 1); // never 0, which means "everything"
    return snap;
}

std::optional<introspect::task_info> runtime_impl::find_task(task_id id) {
    if (!recording())
        return std::nullopt;
    clock_pair now;
    if (task_header* t = tasks.find_live(id))
        return describe_task(t, now);
    if (auto r = retained.find(id, now.cycles))
        return describe_retired(*r, now);
    return std::nullopt;
}

} // namespace rt::detail

namespace rt::introspect {

runtime_snapshot snapshot() {
    return detail::current_runtime("rt::introspect::snapshot").snapshot(0);
}

runtime_snapshot snapshot_since(std::uint64_t version) {
    return detail::current_runtime("rt::introspect::snapshot_since").snapshot(version);
}

std::optional<task_info> find_task(task_id id) {
    return detail::current_runtime("rt::introspect::find_task").find_task(id);
}

} // namespace rt::introspect
