#include "sched/runtime_impl.hpp"

#include "detail/cycle_clock.hpp"
#include "introspect/watchdog.hpp"
#include "rt/detail/context.hpp"
#include "rt/task/spawn.hpp"
#include "sched/parker.hpp"
#include "sched/worker.hpp"
#include "task/harness.hpp"
#include "task/sampling.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace rt::detail {

constinit thread_local thread_context tls{};

runtime_impl& current_runtime(const char* what) {
    runtime_impl* rt = tls.runtime;
    if (rt == nullptr)
        throw std::runtime_error(std::string(what) +
                                 " called outside of an rt runtime (no runtime on this thread)");
    return *rt;
}

namespace {

std::size_t resolve_workers(const runtime_builder& b) {
    std::size_t n = b.worker_threads_;
    if (n == 0)
        n = std::max(1u, std::thread::hardware_concurrency());
    if (n > 0xfff0)
        throw std::invalid_argument("rt::runtime_builder: too many worker threads");
    return n;
}

// Task ids are unique in the process. Each thread takes them in blocks so that spawning on two
// workers does not bounce one counter's cache line between them.
atomic<task_id> next_id_block{1};
constexpr task_id id_block = 1024;
thread_local task_id tl_next_id = 0;
thread_local task_id tl_end_id = 0;

task_id allocate_id() noexcept {
    if (tl_next_id == tl_end_id) {
        tl_next_id = next_id_block.fetch_add(id_block, memory_order_relaxed);
        tl_end_id = tl_next_id + id_block;
    }
    return tl_next_id++;
}

} // namespace

runtime_impl::runtime_impl(const runtime_builder& cfg)
    : cfg_(cfg), idle_set(static_cast<std::uint32_t>(resolve_workers(cfg))), io(*this, timers, cfg),
      blocking(*this, cfg) {
    if (cfg.max_blocking_threads_ == 0)
        throw std::invalid_argument("rt::runtime_builder: max_blocking_threads must be at least 1");
    std::size_t n = resolve_workers(cfg);
    cfg_.worker_threads_ = n;
    if (recording()) {
        double per_tick = cycle_ns_per_tick();
        auto to_cycles = [per_tick](std::chrono::nanoseconds d) {
            return static_cast<std::uint64_t>(static_cast<double>(d.count()) / per_tick);
        };
        stall_cycles_ = to_cycles(cfg_.stall_threshold_);
        retain_cycles_ = to_cycles(cfg_.retain_for_);
        retained.configure(retain_cycles_, cfg_.retain_max_, n);
        std::uint32_t one_in = std::bit_ceil(std::max<std::uint32_t>(1, cfg_.poll_timing_sample_));
        if (one_in == 0 || one_in > (1u << 20))
            throw std::invalid_argument(
                "rt::runtime_builder: poll_timing_sample must be between 1 and 2^20");
        sample_mask_ = one_in - 1;
        cfg_.poll_timing_sample_ = one_in;
    }
    timers.set_reactor(&io);
    io.start();
    workers_.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        workers_.push_back(std::make_unique<worker>(*this, static_cast<std::uint32_t>(i)));
    for (auto& w : workers_)
        w->start();
    if (recording()) {
        std::vector<watchdog::watched> slots;
        for (auto& w : workers_)
            slots.push_back({&w->slot(), &w->stats().polls});
        // Two looks per threshold: a poll is first seen at most half a threshold after it
        // began and reported one threshold later, so by 1.5 thresholds into it. Each look wakes
        // a thread, and wakes are not free: at four per threshold (400/s by default), lock-heavy
        // channel loads on two cores ran 5-9% slower than without the watchdog; at two, 0-4%.
        auto period = std::clamp<std::chrono::nanoseconds>(cfg_.stall_threshold_ / 2,
                                                           std::chrono::milliseconds(1),
                                                           std::chrono::milliseconds(100));
        watchdog_ = std::make_unique<watchdog>(*this, std::move(slots), stall_cycles_, period);
    }
}

runtime_impl::~runtime_impl() {
    shutdown();
}

void runtime_impl::schedule(task_header* t) {
    if (shutting_down()) {
        // Step 5 of shutdown cancels every unfinished task; this reference is not needed.
        ref_dec(t);
        return;
    }
    thread_context& ctx = tls;
    if (ctx.runtime == this && ctx.worker != nullptr) {
        static_cast<worker*>(ctx.worker)->schedule_local(t, false);
        return;
    }
    inject.push(t);
    notify_parked();
}

void runtime_impl::schedule_batch(std::vector<task_header*>& ts) {
    if (ts.empty())
        return;
    if (shutting_down()) {
        for (task_header* t : ts)
            ref_dec(t);
        ts.clear();
        return;
    }
    for (std::size_t i = 0; i + 1 < ts.size(); ++i)
        ts[i]->queue_next = ts[i + 1];
    inject.push_batch(ts.front(), ts.back(), ts.size());
    // One wake-up at most: the woken worker searches, and when it finds more than it can take it
    // wakes the next (worker::run_task), so a batch of one does not wake every worker.
    notify_parked();
    ts.clear();
}

void runtime_impl::notify_parked() {
    if (auto w = idle_set.worker_to_notify())
        workers_[*w]->unpark();
}

void runtime_impl::notify_if_work_pending() {
    for (auto& w : workers_) {
        if (!w->stealer().is_empty()) {
            notify_parked();
            return;
        }
    }
    if (!inject.is_empty())
        notify_parked();
}

void runtime_impl::init_header(task_header* t, task_kind kind, const task_vtable* vt,
                               const spawn_options& opts, const rt::source_location& loc) {
    t->vtable = vt;
    t->kind = kind;
    t->sched = kind == task_kind::blocking ? static_cast<scheduler*>(&blocking)
                                           : static_cast<scheduler*>(this);
    t->sched_owner = this;
    t->id = allocate_id();
    t->parent = tls.task != nullptr ? tls.task->id : 0;
    t->location = loc;
    if (!opts.name.empty()) {
        t->name = new char[opts.name.size() + 1];
        std::memcpy(t->name, opts.name.data(), opts.name.size());
        t->name[opts.name.size()] = '\0';
    }
    t->root.ready.store(true, memory_order_relaxed);
    t->record = recording();
    if (t->record) {
        // The spawn is the first wake: it draws the first poll's timing (task/sampling.hpp).
        std::uint64_t stamp = wake_stamp(tls);
        t->stats.created_cycles.store(stamp & ~task_stats::wake_flags, memory_order_relaxed);
        t->last_wake_cycles.store(stamp, memory_order_relaxed);
    }
    // Own reference, the join handle's, and the first run-queue entry's.
    t->state.store(task_header::notified + 3 * task_header::ref_one, memory_order_relaxed);
    tasks.insert(t);
}

task_header* spawn_async(runtime_impl& rt, task_header* t, const task_vtable* vt,
                         const spawn_options& opts, const rt::source_location& loc) {
    rt.init_header(t, task_kind::async, vt, opts, loc);
    if (rt.shutting_down()) {
        // Too late to run: cancel on the spot so the frame is not leaked.
        t->state.fetch_xor(task_header::notified | task_header::running, memory_order_acq_rel);
        cancel_task(t);
        return t;
    }
    rt.schedule(t);
    return t;
}

void init_header(runtime_impl& rt, task_header* t, task_kind kind, const task_vtable* vt,
                 const spawn_options& opts, const rt::source_location& loc) {
    rt.init_header(t, kind, vt, opts, loc);
}

void submit_blocking(runtime_impl& rt, task_header* t) {
    rt.blocking.schedule(t);
}

// ---- block_on ----

namespace {

// Schedules the root task of block_on back onto the thread that drives it.
class block_on_scheduler final : public scheduler {
public:
    void schedule(task_header* t) override {
        pending_.store(t, memory_order_release);
        parker_.unpark();
    }
    task_header* take() noexcept { return pending_.exchange(nullptr, memory_order_acq_rel); }
    void park() noexcept { parker_.park(); }

private:
    atomic<task_header*> pending_{nullptr};
    parker parker_;
};

void block_on_destroy_body(task_header*) {}
// The root of block_on: a header that also knows where the root frame's await record is.
struct block_on_task : task_header {
    const await_record* root_record = nullptr;
};

void block_on_dealloc(task_header* t) {
    delete[] t->name;
    auto* b = static_cast<block_on_task*>(t);
    b->~block_on_task();
    frame_deallocate(b, sizeof(block_on_task));
}
const await_record* block_on_await_root(const task_header* t) {
    return static_cast<const block_on_task*>(t)->root_record;
}
void* block_on_result(task_header*) {
    return nullptr;
}
void block_on_poll(task_header*) {}
// The caller's rt::task owns the root frame and reads its result after block_on.
void block_on_finish_body(task_header*) {}
constexpr task_vtable block_on_vtable{&block_on_poll,        &block_on_destroy_body,
                                      &block_on_dealloc,     &block_on_result,
                                      &block_on_finish_body, &block_on_await_root};

} // namespace

void runtime_impl::block_on(std::coroutine_handle<> root, const await_record* root_record) {
    thread_context& ctx = tls;
    if (ctx.runtime != nullptr)
        throw std::logic_error("rt::runtime::block_on called from inside a runtime");
    block_on_scheduler sched;
    void* mem = frame_allocate(sizeof(block_on_task));
    auto* b = new (mem) block_on_task();
    b->root_record = root_record;
    task_header* t = b;
    t->frame = root;
    t->root.leaf = root;
    init_header(t, task_kind::block_on, &block_on_vtable, spawn_options{.name = "block_on"},
                rt::source_location::current());
    t->sched = &sched;
    // block_on holds the join handle's reference itself, so the header outlives the drive loop.
    ctx.runtime = this;
    task_header* next = t;
    for (;;) {
        if (next == nullptr) {
            sched.park();
            next = sched.take();
            continue;
        }
        poll_result r = poll_task(next);
        if (r == poll_result::complete)
            break;
        next = r == poll_result::notified ? next : sched.take();
    }
    ctx.runtime = nullptr;
    // Wakes still in flight hold their own references; they see COMPLETE and only drop them.
    // Wait for them: they may still call into `sched`, which lives on this stack frame.
    while (t->refs() > 1)
        std::this_thread::yield();
    ref_dec(t);
}

// ---- shutdown ----

void runtime_impl::shutdown() noexcept {
    if (watchdog_)
        watchdog_->stop(); // it reads the workers' slots and reports through the task list
    shutting_down_.store(true, memory_order_release);
    for (auto& w : workers_)
        w->unpark();
    for (auto& w : workers_)
        w->join();
    io.stop();
    blocking.shutdown();

    std::vector<task_header*> queued;
    for (auto& w : workers_)
        w->drain(queued);
    while (task_header* t = inject.pop())
        queued.push_back(t);

    thread_context& ctx = tls;
    runtime_impl* saved = ctx.runtime;
    ctx.runtime = this;
    for (task_header* t : tasks.collect()) {
        std::uint64_t prev;
        acquire_for_cancel(t, prev);
        if (!(prev & task_header::complete)) {
            // Our collected reference stands in for the poller's, which cancel_task drops.
            cancel_task(t);
        } else {
            ref_dec(t);
        }
    }
    ctx.runtime = saved;
    for (task_header* t : queued)
        ref_dec(t);
}

} // namespace rt::detail

namespace rt {

runtime runtime_builder::build() {
    return runtime(*this);
}

runtime::runtime() : runtime(runtime_builder{}) {}
runtime::runtime(const runtime_builder& b) : impl_(std::make_unique<detail::runtime_impl>(b)) {}
runtime::runtime(runtime&&) noexcept = default;
runtime& runtime::operator=(runtime&&) noexcept = default;
runtime::~runtime() = default;

void runtime::drive(std::coroutine_handle<> root, const detail::await_record* root_record) {
    impl_->block_on(root, root_record);
}

introspect::runtime_snapshot runtime::snapshot() const {
    return impl_->snapshot(0);
}

introspect::runtime_snapshot runtime::snapshot_since(std::uint64_t version) const {
    return impl_->snapshot(version);
}

std::optional<introspect::task_info> runtime::find_task(task_id id) const {
    return impl_->find_task(id);
}

std::size_t runtime::worker_count() const noexcept {
    return impl_->worker_count();
}

rt::io_backend runtime::io_backend() const noexcept {
    return impl_->io.driver().kind();
}

} // namespace rt
