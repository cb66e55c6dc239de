#include "sched/blocking_pool.hpp"

#include "detail/cycle_clock.hpp"

#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "task/harness.hpp"

#include <pthread.h>

namespace rt::detail {

using h = task_header;

bool blocking_begin(task_header* t) noexcept {
    std::uint64_t prev = t->state.load(memory_order_relaxed);
    std::uint64_t next;
    do {
        next = (prev & ~h::notified) | h::running;
    } while (
        !t->state.compare_exchange_weak(prev, next, memory_order_acquire, memory_order_relaxed));
    if (prev & h::cancelled) {
        cancel_task(t);
        return false;
    }
    if (t->record) {
        std::uint64_t now = cycle_now();
        t->stats.poll_start_cycles.store(now, memory_order_relaxed);
        std::uint64_t created = t->stats.created_cycles.load(memory_order_relaxed);
        if (now > created)
            bump(t->stats.scheduled_cycles, now - created);
    }
    return true;
}

void blocking_finish(task_header* t) noexcept {
    if (t->record) {
        std::uint64_t now = cycle_now();
        std::uint64_t start = t->stats.poll_start_cycles.load(memory_order_relaxed);
        bump(t->stats.busy_cycles, now > start ? now - start : 0);
        bump(t->stats.polls);
        t->stats.poll_end_cycles.store(now, memory_order_relaxed);
    }
    complete_task(t);
}

blocking_pool::blocking_pool(runtime_impl& rt, const runtime_builder& cfg)
    : rt_(rt), max_threads_(cfg.max_blocking_threads_), keep_alive_(cfg.blocking_keep_alive_),
      name_(cfg.thread_name_ + "-blocking") {}

blocking_pool::~blocking_pool() {
    shutdown();
}

void blocking_pool::schedule(task_header* t) {
    std::vector<std::thread> to_join;
    {
        std::unique_lock lock(mu_);
        if (shutdown_) {
            lock.unlock();
            t->state.fetch_or(h::cancelled, memory_order_acq_rel);
            t->vtable->poll(t);
            return;
        }
        t->queue_next = nullptr;
        if (tail_ != nullptr)
            tail_->queue_next = t;
        else
            head_ = t;
        tail_ = t;
        ++queued_;
        if (idle_ > wakeups_) {
            ++wakeups_;
            cv_.notify_one();
        } else if (threads_ < max_threads_) {
            ++threads_;
            live_.emplace_front();
            auto self = live_.begin();
            *self = std::thread([this, self] { run(self); });
        }
        reap_locked(to_join);
    }
    for (auto& th : to_join)
        th.join();
}

void blocking_pool::reap_locked(std::vector<std::thread>& out) {
    for (auto& th : exited_)
        out.push_back(std::move(th));
    exited_.clear();
}

void blocking_pool::run(std::list<std::thread>::iterator self) {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    tls.runtime = &rt_;
    std::unique_lock lock(mu_);
    for (;;) {
        if (head_ != nullptr) {
            task_header* t = head_;
            head_ = t->queue_next;
            if (head_ == nullptr)
                tail_ = nullptr;
            --queued_;
            ++tasks_run_;
            lock.unlock();
            tls.task = t;
            t->vtable->poll(t);
            tls.task = nullptr;
            lock.lock();
            continue;
        }
        if (shutdown_)
            break;
        ++idle_;
        bool woke = cv_.wait_for(lock, keep_alive_, [this] { return wakeups_ > 0 || shutdown_; });
        --idle_;
        if (wakeups_ > 0)
            --wakeups_;
        if (!woke && head_ == nullptr)
            break; // kept alive long enough with nothing to do
    }
    --threads_;
    // A thread cannot join itself: hand our std::thread to whoever starts or stops threads next.
    exited_.push_back(std::move(*self));
    live_.erase(self);
    tls.runtime = nullptr;
}

void blocking_pool::shutdown() noexcept {
    std::vector<task_header*> dropped;
    {
        std::lock_guard lock(mu_);
        if (shutdown_ && live_.empty() && exited_.empty())
            return;
        shutdown_ = true;
        for (task_header* t = head_; t != nullptr;) {
            task_header* next = t->queue_next;
            dropped.push_back(t);
            t = next;
        }
        head_ = tail_ = nullptr;
        queued_ = 0;
        cv_.notify_all();
    }
    for (task_header* t : dropped) {
        t->state.fetch_or(h::cancelled, memory_order_acq_rel);
        t->vtable->poll(t);
    }
    for (;;) {
        std::vector<std::thread> to_join;
        {
            std::lock_guard lock(mu_);
            reap_locked(to_join);
            if (to_join.empty() && live_.empty())
                break;
        }
        for (auto& th : to_join)
            th.join();
        if (to_join.empty())
            std::this_thread::yield();
    }
}

blocking_stats blocking_pool::stats() {
    std::lock_guard lock(mu_);
    return {threads_, idle_, queued_, tasks_run_};
}

} // namespace rt::detail
