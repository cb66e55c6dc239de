// The local set's scheduler: a queue of woken local tasks, drained by the driving strand.
//
// Protocol: `queue_` and `driver_` are guarded by `mu_` because wakes come from any thread (the
// reactor, workers, blocking threads). Everything else — polling, the list of tasks, counting —
// happens on the driving thread only. A wake pushes the task and, if the driver is parked, marks
// its strand and wakes the driving task (prepared under the lock, fired after it).
#include "rt/task/local_set.hpp"

#include "rt/detail/waiter.hpp"
#include "sched/runtime_impl.hpp"
#include "task/harness.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <vector>

namespace rt::detail {

class local_scheduler final : public scheduler {
public:
    ~local_scheduler() { cancel_all(); }

    void schedule(task_header* t) override {
        pending_wake wake;
        std::lock_guard lock(mu_);
        queue_.push_back(t);
        if (driver_) {
            wake.prepare(driver_);
            driver_ = {};
        }
    }

    void add(task_header* t) {
        ref_inc(t); // the set's own reference, for cancellation at destruction
        tasks_.push_back(t);
        schedule(t);
    }

    /// Polls every queued task once; returns how many were polled.
    std::size_t run_ready() {
        std::size_t polled = 0;
        for (;;) {
            task_header* t;
            {
                std::lock_guard lock(mu_);
                if (queue_.empty())
                    break;
                t = queue_.front();
                queue_.pop_front();
            }
            ++polled;
            if (poll_task(t) == poll_result::notified) {
                std::lock_guard lock(mu_);
                queue_.push_back(t);
            }
        }
        prune();
        return polled;
    }

    /// Parks the driver unless work is queued; true when parked.
    bool park(const waker& w) {
        std::lock_guard lock(mu_);
        if (!queue_.empty())
            return false;
        driver_ = w;
        return true;
    }
    void unpark() {
        std::lock_guard lock(mu_);
        driver_ = {};
    }

    std::size_t unfinished() const noexcept { return tasks_.size(); }

private:
    static bool finished(task_header* t) noexcept {
        return t->state.load(memory_order_acquire) & task_header::complete;
    }

    void prune() {
        auto it = std::remove_if(tasks_.begin(), tasks_.end(), [](task_header* t) {
            if (!finished(t))
                return false;
            ref_dec(t);
            return true;
        });
        tasks_.erase(it, tasks_.end());
    }

    void cancel_all() noexcept {
        std::deque<task_header*> queued;
        {
            std::lock_guard lock(mu_);
            queued.swap(queue_);
        }
        for (task_header* t : tasks_) {
            std::uint64_t prev;
            acquire_for_cancel(t, prev);
            if (prev & task_header::complete) {
                ref_dec(t);
                continue;
            }
            ref_inc(t);     // the poller's reference, which cancel_task drops with the task's own
            cancel_task(t); // destroys the frame here, on the set's thread
            ref_dec(t);     // the set's reference
        }
        tasks_.clear();
        for (task_header* t : queued)
            ref_dec(t);
    }

    mutex mu_;
    std::deque<task_header*> queue_;
    waker driver_;
    std::vector<task_header*> tasks_;
};

task_header* spawn_local_task(local_scheduler& s, task_header* t, const task_vtable* vt,
                              const spawn_options& opts, const rt::source_location& loc) {
    runtime_impl& rt = current_runtime("rt::local_set::spawn_local");
    rt.init_header(t, task_kind::local, vt, opts, loc);
    t->sched = &s;
    s.add(t);
    return t;
}

local_drive::~local_drive() {
    if (home_ != nullptr && home_->driver == this)
        home_->driver = nullptr;
    if (parked_)
        sched_.unpark();
}

bool local_drive::await_suspend(std::coroutine_handle<> parent) {
    if (tls.worker != nullptr)
        throw std::logic_error("rt::local_set must be driven from block_on's task (or another "
                               "task that stays on one thread), not from a worker-pool task");
    home_ = tls.current;
    parent_ = parent;
    if (run_and_park())
        return false;
    home_->driver = this;
    return true;
}

void local_drive::drive() {
    if (!run_and_park())
        return;
    home_->driver = nullptr;
    parent_.resume();
}

bool local_drive::run_and_park() {
    for (;;) {
        parked_ = false;
        sched_.unpark();
        sched_.run_ready();
        bool done = until_ != nullptr
                        ? (until_->state.load(memory_order_acquire) & task_header::complete) != 0
                        : sched_.unfinished() == 0;
        if (done)
            return true;
        tls.waker_taken = true; // introspection: the park below registers this waker
        if (sched_.park(waker{tls.task, home_})) {
            parked_ = true;
            return false;
        }
    }
}

} // namespace rt::detail

namespace rt {

local_set::local_set() : impl_(std::make_unique<detail::local_scheduler>()) {}
local_set::~local_set() = default;
std::size_t local_set::size() const noexcept {
    return impl_->unfinished();
}

} // namespace rt
