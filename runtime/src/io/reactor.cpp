#include "io/reactor.hpp"

#include "detail/cycle_clock.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"
#include "time/timer_driver.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <pthread.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace rt::detail {

reactor::reactor(runtime_impl& rt, timer_driver& timers, std::string thread_name)
    : rt_(rt), timers_(timers), name_(std::move(thread_name) + "-reactor"),
      recording_(rt.recording()) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "rt reactor: epoll_create1");
    event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd_ < 0) {
        int e = errno;
        ::close(epoll_fd_);
        throw std::system_error(e, std::generic_category(), "rt reactor: eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
        int e = errno;
        ::close(event_fd_);
        ::close(epoll_fd_);
        throw std::system_error(e, std::generic_category(), "rt reactor: epoll_ctl");
    }
}

reactor::~reactor() {
    stop();
    ::close(event_fd_);
    ::close(epoll_fd_);
}

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

void reactor::kick() noexcept {
    std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: a wake-up is pending anyway.
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
}

// Wakes tasks whose references the reactor holds. Tasks of this runtime go to the global queue in
// one batch; others (block_on roots, tasks of a local set) are woken one by one.
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

void reactor::run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    tls.in_reactor = true; // wakes made here count as events (event-to-poll latency)
    std::vector<task_header*> woken;
    epoll_event events[64];
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
        int n = epoll_pwait2(epoll_fd_, events, 64, tp, nullptr);
        std::uint64_t begin = recording_ ? cycle_now() : 0;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == 0) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t r = ::read(event_fd_, &v, sizeof v);
                bump(kicks_);
            }
        }
        timers_.fire_expired(clock::now(), woken, recording_ ? &lateness_ns_ : nullptr);
        if (!woken.empty()) {
            bump(timers_fired_, std::uint64_t{woken.size()});
            wake_all(woken);
        }
        if (recording_)
            loop_ns_.record(cycles_to_ns(cycle_now() - begin));
    }
}

} // namespace rt::detail
