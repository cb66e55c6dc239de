// The elastic pool for calls that block: spawn_blocking, and later file and DNS work.
//
// Threads start on demand, one per queued call while none is idle, up to max_blocking_threads;
// beyond that calls wait in a FIFO queue. An idle thread exits after keep-alive without work.
// Everything is guarded by one mutex: a blocking call costs a thread switch anyway, and the lock
// is held only to move a task or count threads. Exited threads are joined by the next thread
// start or by shutdown, so none is left detached.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"
#include "rt/sched/runtime.hpp"

#include <chrono>
#include <cstddef>
#include <list>
#include <thread>
#include <vector>

namespace rt::detail {

class runtime_impl;

struct blocking_stats {
    std::size_t threads = 0;
    std::size_t idle_threads = 0;
    std::size_t queue_depth = 0;
    std::uint64_t tasks_run = 0;
};

class blocking_pool final : public scheduler {
public:
    blocking_pool(runtime_impl& rt, const runtime_builder& cfg);
    ~blocking_pool();

    /// Queues a blocking task (with its run reference). After shutdown it is cancelled at once.
    void schedule(task_header* t) override;
    /// Cancels queued calls, waits for running ones, joins every thread.
    void shutdown() noexcept;
    blocking_stats stats();

private:
    void run(std::list<std::thread>::iterator self);
    void reap_locked(std::vector<std::thread>& out);

    runtime_impl& rt_;
    std::size_t max_threads_;
    std::chrono::nanoseconds keep_alive_;
    std::string name_;

    mutex mu_;
    condition_variable cv_;
    task_header* head_ = nullptr;
    task_header* tail_ = nullptr;
    std::size_t queued_ = 0;
    std::size_t threads_ = 0;
    std::size_t idle_ = 0;
    std::size_t wakeups_ = 0; // notifications not yet consumed by an idle thread
    std::uint64_t tasks_run_ = 0;
    bool shutdown_ = false;
    std::list<std::thread> live_;
    std::vector<std::thread> exited_;
};

} // namespace rt::detail
