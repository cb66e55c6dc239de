#include "sched/worker.hpp"

#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "task/harness.hpp"

#include <algorithm>
#include <pthread.h>
#include <string>

namespace rt::detail {

namespace {
constexpr std::uint32_t global_queue_interval = 61;
constexpr std::uint32_t max_lifo_polls = 3;
constexpr std::size_t max_global_batch = 128;
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
        task_header* t = next_task();
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
            rt_.notify_parked();
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

void worker::park() {
    if (lifo_ != nullptr || queue_.has_tasks())
        return;
    bool last_searcher = rt_.idle_set.transition_to_parked(index_, searching_);
    searching_ = false;
    if (last_searcher)
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
