#include "io/reactor.hpp"

#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "time/timer_driver.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <system_error>
#include <unistd.h>

namespace rt::detail {

reactor::reactor(runtime_impl& rt, timer_driver& timers, const runtime_builder& cfg)
    : rt_(rt), timers_(timers), name_(cfg.thread_name_ + "-reactor"), log_(cfg.on_log_),
      recording_(rt.recording()) {
    if (cfg.io_backend_ == rt::io_backend::io_uring) {
        try {
            driver_ = make_uring_driver();
        } catch (const std::system_error& e) {
            log(std::string("rt reactor: io_uring unavailable (") + e.what() +
                "); falling back to epoll");
        }
    }
    if (!driver_)
        driver_ = make_epoll_driver();
    log(std::string("rt reactor: I/O backend ") + std::string(rt::to_string(driver_->kind())));
}

reactor::~reactor() {
    stop();
}

void reactor::log(std::string_view msg) const {
    if (log_)
        log_(msg);
}

namespace {

// Asks for the real-time class first, then the lowest nice value RLIMIT_NICE allows; says which.
std::string raise_priority() {
    sched_param p{};
    p.sched_priority = sched_get_priority_max(SCHED_FIFO);
    int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p);
    if (e == 0)
        return "rt reactor: running at SCHED_FIFO priority " + std::to_string(p.sched_priority);
    std::string why =
        std::string("rt reactor: SCHED_FIFO not permitted (") + std::strerror(e) + ")";
    auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    for (int nice = -20; nice < 0; ++nice) {
        if (setpriority(PRIO_PROCESS, tid, nice) == 0)
            return why + "; running at nice " + std::to_string(nice);
    }
    return why + "; nice below 0 not permitted either: running at default priority";
}

} // namespace

void reactor::start() {
    thread_ = std::thread([this] { run(); });
}

void reactor::stop() noexcept {
    if (!thread_.joinable())
        return;
    stop_.store(true, memory_order_release);
    kick();
    thread_.join();
}

// Wakes tasks whose references the reactor holds. Tasks of this runtime go to the global queue in
// one batch, with at most one worker woken for it (it wakes others if it finds more than it can
// take: see idle.hpp); others (block_on roots, tasks of a local set) are woken one by one.
void reactor::wake_all(std::vector<task_header*>& woken) {
    batch_.clear();
    for (task_header* t : woken) {
        if (t->sched != &rt_) {
            wake_by_val(t);
            continue;
        }
        if (wake_prepare_by_val(t))
            batch_.push_back(t);
    }
    woken.clear();
    rt_.schedule_batch(batch_);
}

// Re-arms the wait on the descriptors when no worker will harvest them: all are parked, or none
// harvested since the last check while the wait was not watching.
void reactor::keep_watch() noexcept {
    if (driver_->watching())
        return;
    auto now = clock::now();
    if (std::uint64_t h = driver_->harvests(); h != last_harvests_) {
        last_harvests_ = h;
        last_progress_ = now;
    }
    if (rt_.idle_set.all_parked() || now - last_progress_ >= watch_check) {
        last_progress_ = now;
        driver_->rewatch();
    }
}

void reactor::run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    log(raise_priority());
    tls.in_reactor = true;               // wakes made here count as events (event-to-poll latency)
    tls.sample_mask = rt_.sample_mask(); // which of them are timed: task/sampling.hpp
    std::vector<task_header*> woken;
    while (!stop_.load(memory_order_acquire)) {
        bump(iterations_);
        timespec timeout{};
        timespec* tp = nullptr;
        if (auto next = timers_.next_deadline()) {
            auto left = *next - clock::now();
            if (left < clock::duration::zero())
                left = clock::duration::zero();
            auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
            timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
            tp = &timeout;
        }
        // Not watching the descriptors: the workers harvest them, but a worker stuck in a long
        // poll would hold events back, so look again after a while with no harvest.
        constexpr long check_ns = std::chrono::nanoseconds(watch_check).count();
        if (!driver_->watching() &&
            (tp == nullptr || timeout.tv_sec > 0 || timeout.tv_nsec > check_ns)) {
            timeout = timespec{0, check_ns};
            tp = &timeout;
        }
        driver_->wait(tp, woken);
        std::uint64_t begin = recording_ ? round_stamp_.begin(rt_.coarse_clock()) : 0;
        tls.recent_cycles = begin; // the stamp of this round's unsampled wakes
        std::size_t io_woken = woken.size();
        io_events_.fetch_add(io_woken, memory_order_relaxed);
        timers_.fire_expired(clock::now(), woken, recording_ ? &lateness_ns_ : nullptr);
        if (woken.size() > io_woken)
            timers_fired_.fetch_add(woken.size() - io_woken, memory_order_relaxed);
        if (!woken.empty())
            wake_all(woken);
        // After the wakes: a worker woken for them counts as awake and harvests what follows.
        keep_watch();
        if (recording_) {
            round_stamp_.end();
            loop_ns_.record(cycles_to_ns(cycle_now() - begin));
        }
    }
}

} // namespace rt::detail
