#include "introspect/watchdog.hpp"

#include "detail/cycle_clock.hpp"
#include "sched/runtime_impl.hpp"

#include <pthread.h>
#include <string>

namespace rt::detail {

watchdog::watchdog(runtime_impl& rt, std::vector<watched> workers, std::uint64_t stall_cycles,
                   std::chrono::nanoseconds period)
    : rt_(rt), workers_(std::move(workers)), seen_(workers_.size()), stall_cycles_(stall_cycles),
      period_(period) {
    thread_ = std::thread([this] { run(); });
}

watchdog::~watchdog() {
    stop();
}

void watchdog::stop() noexcept {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void watchdog::run() {
    std::string name = rt_.config().thread_name_ + "-watchdog";
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    unsigned quiet = 0;
    std::unique_lock lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, quiet >= 4 ? std::chrono::nanoseconds(idle_period) : period_,
                     [this] { return stop_; });
        if (stop_)
            break;
        lock.unlock();
        std::uint64_t now = cycle_now();
        rt_.advance_coarse(now);
        quiet = look(now) ? 0 : quiet + 1;
        lock.lock();
    }
}

bool watchdog::look(std::uint64_t now) {
    bool active = false;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        poll_slot& s = *workers_[i].slot;
        const atomic<std::uint64_t>& polls = *workers_[i].polls;
        seen& v = seen_[i];
        std::uint64_t seq = polls.load(memory_order_acquire);
        if (seq != v.seq) {
            // A new poll (or none) since the last look: it started before `now`, so a report
            // measured from here never calls a short poll a stall.
            active = true;
            v = seen{seq, now, false};
            continue;
        }
        if (v.reported || now - v.first < stall_cycles_)
            continue;
        // Acquire: the second look at the counter cannot be made before this load.
        task_id id = s.task.load(memory_order_acquire);
        if (id == 0 || polls.load(memory_order_relaxed) != seq)
            continue; // parked, or a poll began meanwhile: `id` may be the next poll's
        v.reported = true;
        s.since.store(v.first, memory_order_relaxed);
        s.flagged.store(true, memory_order_release);
        rt_.report_live_stall(static_cast<std::uint32_t>(i), id, now - v.first);
    }
    return active;
}

} // namespace rt::detail
