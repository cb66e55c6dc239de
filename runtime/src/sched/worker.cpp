#include "sched/worker.hpp"

#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "task/harness.hpp"

#include <algorithm>
#include <chrono>
#include <pthread.h>
#include <string>

namespace rt::detail {

namespace {
constexpr std::uint32_t global_queue_interval = 61;
constexpr std::uint32_t max_lifo_polls = 3;
constexpr std::size_t max_global_batch = 128;
// Every this many ticks a busy worker takes ready I/O events itself (the reactor does not watch
// for them while workers are awake: io/io_driver.hpp).
constexpr std::uint32_t io_interval = 61;
// How long a worker that would park keeps looking for work (see worker::spin), and how often
// it asks the kernel for I/O events meanwhile: a poll is a system call, so it is spaced out, and
// a peer that sends a burst of requests then finds them taken together.
constexpr std::chrono::nanoseconds spin_for = std::chrono::microseconds(100);
constexpr std::chrono::nanoseconds spin_poll_every = std::chrono::microseconds(20);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}
} // namespace

worker::worker(runtime_impl& rt, std::uint32_t index)
    : rt_(rt), index_(index), stealer_(queue_.get_stealer()), rng_(index * 2654435761u + 1),
      recording_(rt.recording()), ns_per_tick_(cycle_ns_per_tick()) {}

void worker::start() {
    thread_ = std::thread([this] { run(); });
}

void worker::join() {
    if (thread_.joinable())
        thread_.join();
}

std::uint32_t worker::random(std::uint32_t n) noexcept {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return rng_ % n;
}

void worker::push_back(task_header* t) {
    queue_.push_back(t, [this](task_header** tasks, std::uint32_t n) {
        for (std::uint32_t i = 0; i + 1 < n; ++i)
            tasks[i]->queue_next = tasks[i + 1];
        rt_.inject.push_batch(tasks[0], tasks[n - 1], n);
        bump(stats_.overflows);
    });
}

void worker::schedule_local(task_header* t, bool is_yield) {
    if (is_yield) {
        push_back(t);
    } else {
        if (lifo_ != nullptr)
            push_back(lifo_);
        lifo_ = t;
    }
    // Others may help only with what sits in the queue (the LIFO slot is not stealable).
    if (!searching_ && queue_.has_tasks())
        rt_.notify_parked();
}

void worker::run() {
    std::string name = rt_.config().thread_name_ + "-worker-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    tls.runtime = &rt_;
    tls.worker = this;
    tls.sample_mask = rt_.sample_mask();
    tls.slot = recording_ ? &slot_ : nullptr;
    tls.sample_rng = (index_ + 1) * 2654435761u | 1u;
    if (recording_)
        tls.recent_cycles = cycle_now();
    // After a poll, the next task found in our own queues starts where that poll ended (see
    // thread_context::chained_start); after a steal or a park it reads the clock itself.
    std::uint64_t chain = 0;
    while (!rt_.shutting_down()) {
        ++tick_;
        if (tick_ % io_interval == 0)
            poll_io();
        task_header* t = next_task();
        if (t == nullptr && poll_io())
            t = next_task();
        if (t == nullptr) {
            chain = 0;
            t = steal_work();
        }
        if (t != nullptr) {
            tls.chained_start = chain;
            run_task(t);
            chain = tls.last_poll_end;
            continue;
        }
        park();
    }
    tls.worker = nullptr;
    tls.runtime = nullptr;
    tls.slot = nullptr;
}

task_header* worker::next_task() {
    if (tick_ % global_queue_interval == 0) {
        if (task_header* t = rt_.inject.pop())
            return t;
    }
    if (task_header* t = queue_.pop())
        return t;
    // Refill from the global queue: a fair share, bounded by the room we have.
    std::size_t share = rt_.inject.len() / rt_.worker_count() + 1;
    std::size_t want = std::min({share, max_global_batch, std::size_t{queue_.remaining_slots()}});
    task_header* batch[max_global_batch];
    std::size_t n = rt_.inject.pop_n(batch, want);
    if (n == 0)
        return nullptr;
    if (n > 1)
        queue_.push_back_batch(batch + 1, static_cast<std::uint32_t>(n - 1));
    return batch[0];
}

task_header* worker::steal_work() {
    if (!searching_) {
        if (!rt_.idle_set.transition_to_searching())
            return nullptr;
        searching_ = true;
    }
    std::uint32_t n = static_cast<std::uint32_t>(rt_.worker_count());
    std::uint32_t start = random(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        std::uint32_t victim = (start + i) % n;
        if (victim == index_)
            continue;
        std::uint32_t before = queue_.remaining_slots();
        if (task_header* t = rt_.worker_at(victim).stealer().steal_into(queue_)) {
            bump(stats_.steals);
            // Others may steal from our queue meanwhile: never let the difference wrap.
            std::uint32_t after = queue_.remaining_slots();
            bump(stats_.stolen_tasks, std::uint64_t{1} + (before > after ? before - after : 0));
            return t;
        }
    }
    return rt_.inject.pop();
}

void worker::run_task(task_header* t) {
    if (searching_) {
        searching_ = false;
        if (rt_.idle_set.transition_from_searching())
            rt_.notify_if_work_pending();
    }
    std::uint32_t lifo_polls = 0;
    std::uint64_t busy = 0;
    for (;;) {
        if (t->last_worker.load(memory_order_relaxed) != index_)
            t->last_worker.store(index_, memory_order_relaxed);
        if (!recording_) {
            bump(stats_.polls);
            if (poll_task(t) == poll_result::notified)
                push_back(t);
        } else {
            // The id for the watchdog, then the poll count it pairs with (poll_slot).
            slot_.task.store(t->id, memory_order_relaxed);
            stats_.polls.store(stats_.polls.load(memory_order_relaxed) + 1, memory_order_release);
            poll_result r = poll_task(t); // which also completes a reported stall
            if (tls.last_poll_weight != 0) {
                busy += tls.last_poll_cycles * tls.last_poll_weight;
                record_poll();
            }
            if (r == poll_result::notified)
                push_back(t);
        }
        t = lifo_;
        if (t == nullptr || rt_.shutting_down())
            break;
        lifo_ = nullptr;
        if (++lifo_polls > max_lifo_polls) {
            push_back(t);
            break;
        }
        bump(stats_.lifo_hits);
        tls.chained_start = tls.last_poll_end;
    }
    bump(stats_.busy_cycles, busy);
}

// Single writer (this worker): the histograms need no synchronisation beyond relaxed stores.
void worker::record_poll() noexcept {
    const thread_context& ctx = tls;
    auto ns = [this](std::uint64_t ticks) {
        return static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick_);
    };
    const std::uint64_t weight = ctx.last_poll_weight;
    stats_.poll_ns.record(ns(ctx.last_poll_cycles), weight);
    std::uint64_t delay = ns(ctx.last_sched_cycles);
    stats_.sched_delay_ns.record(delay, weight);
    if (ctx.last_wake_from_reactor)
        stats_.event_to_poll_ns.record(delay, weight);
}

// Takes the I/O events ready now on this thread: the tasks they wake join this worker's queue
// (no hand-off through the reactor thread and the global queue). True when some did.
bool worker::poll_io() {
    if (!io_harvest_)
        return false;
    if (!rt_.io.driver().poll_ready(io_woken_)) {
        io_harvest_ = false; // the backend leaves its events to the reactor: stop asking
        return false;
    }
    if (io_woken_.empty())
        return false;
    thread_context& ctx = tls;
    ctx.in_reactor = true; // these wakes are events: their polls count in event-to-poll latency
    if (recording_)        // the stamp of the unsampled ones (task/sampling.hpp)
        ctx.recent_cycles = harvest_stamp_.begin(rt_.coarse_clock());
    bool queued = false;
    for (task_header* t : io_woken_) {
        if (t->sched != &rt_) {
            wake_by_val(t);
        } else if (wake_prepare_by_val(t)) {
            push_back(t);
            queued = true;
        }
    }
    if (recording_)
        harvest_stamp_.end();
    ctx.in_reactor = false;
    io_woken_.clear();
    if (queued && !searching_ && queue_.has_tasks())
        rt_.notify_parked();
    return queued;
}

// The searching worker keeps looking a little before it parks: work that comes meanwhile
// (mostly I/O readiness, harvested here) then costs no futex wake-up, no reactor wake-up and no
// context switch on either side. It spins with pause instructions rather than sched_yield: a
// yield would mark this thread as one that gives its turn away, and the scheduler would then
// let every peer it wakes (the thread that sent the request, say) preempt it at once.
bool worker::spin() {
    const auto ticks = [this](std::chrono::nanoseconds d) {
        return static_cast<std::uint64_t>(static_cast<double>(d.count()) / ns_per_tick_);
    };
    const std::uint64_t spin_ticks = ticks(spin_for), poll_ticks = ticks(spin_poll_every);
    const std::uint32_t n = static_cast<std::uint32_t>(rt_.worker_count());
    const std::uint64_t start = cycle_now();
    std::uint64_t now = start, polled = start;
    for (;;) {
        if (!rt_.inject.is_empty() || rt_.shutting_down())
            return true;
        for (std::uint32_t i = 0; i < n; ++i) {
            if (i != index_ && !rt_.worker_at(i).stealer().is_empty())
                return true;
        }
        for (int k = 0; k < 32; ++k)
            cpu_relax();
        now = cycle_now();
        if (now - polled >= poll_ticks) {
            if (poll_io())
                return true;
            polled = now;
        }
        if (now - start >= spin_ticks)
            return false;
    }
}

void worker::park() {
    if (lifo_ != nullptr || queue_.has_tasks())
        return;
    // Only the last worker awake spins: while another is awake, it takes the I/O events. And only
    // when it can take them itself: with a backend that leaves them to the reactor thread, the
    // spin would compete for the core with the reactor it waits for.
    if (searching_ && io_harvest_ && rt_.idle_set.num_unparked() == 1 && spin())
        return;
    auto parked = rt_.idle_set.transition_to_parked(index_, searching_);
    searching_ = false;
    // The reactor's wait may not be watching I/O (workers were harvesting it): it must now.
    if (parked.last_awake)
        rt_.io.driver().rewatch();
    if (parked.last_searcher)
        rt_.notify_if_work_pending();
    bump(stats_.parks);
    if (recording_)
        slot_.task.store(0, memory_order_relaxed); // not polling: nothing here can stall
    for (;;) {
        parker_.park();
        if (rt_.shutting_down())
            return;
        if (!rt_.idle_set.is_parked(index_)) {
            // Whoever removed us from the sleepers counted us as searching.
            searching_ = true;
            break;
        }
    }
    bump(stats_.unparks);
    if (recording_)
        tls.recent_cycles = cycle_now(); // the stamps of the next untimed polls start here
}

void worker::drain(std::vector<task_header*>& out) {
    if (lifo_ != nullptr)
        out.push_back(std::exchange(lifo_, nullptr));
    while (task_header* t = queue_.pop())
        out.push_back(t);
}

} // namespace rt::detail
