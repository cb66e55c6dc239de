// The epoll backend: every descriptor is registered once, edge-triggered, for input, output and
// peer shutdown, in one epoll set (`io_fd_`). The reactor thread blocks on a second set
// (`wait_fd_`) holding an eventfd (data.ptr == nullptr) that interrupts the wait from other
// threads, and the first set itself, one-shot: the reactor watches the descriptors only while
// that entry is armed (io_driver.hpp: harvesting by workers).
//
// Edge triggering means the kernel reports a change once, to one thread: the registration keeps
// it as readiness until a task's system call answers EAGAIN (see rt/detail/io_source.hpp), so no
// change is lost and a descriptor costs no epoll_ctl per operation.
//
// Watching: the kernel disarms the one-shot entry when it reports the set ready; the reactor then
// clears `armed_` and takes the events. `rewatch` re-arms it (EPOLL_CTL_MOD, which reports it
// ready at once if events wait). The clear and the exchange in `rewatch` are seq_cst so that of a
// reactor clearing `armed_` and then reading whether any worker is awake, and a worker going to
// sleep and then calling `rewatch`, at least one sees the other and re-arms.
//
// Harvests in progress: `harvest_` counts calls of poll_ready in its low bits while they run and
// all calls so far above them. A removed registration is freed only when a load (acquire) of it
// shows no harvest in progress: one that began later began after the EPOLL_CTL_DEL and cannot
// see it, and the decrement (release) of one that ended orders its accesses before the free.
#include "io/io_driver.hpp"

#include <cerrno>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace rt::detail {

namespace {

class epoll_driver final : public io_driver {
public:
    epoll_driver() {
        io_fd_ = epoll_create1(EPOLL_CLOEXEC);
        wait_fd_ = epoll_create1(EPOLL_CLOEXEC);
        event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (io_fd_ < 0 || wait_fd_ < 0 || event_fd_ < 0)
            fail("rt reactor: epoll_create1/eventfd");
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        if (epoll_ctl(wait_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0)
            fail("rt reactor: epoll_ctl");
        ev.events = EPOLLIN | EPOLLONESHOT;
        ev.data.ptr = this;
        if (epoll_ctl(wait_fd_, EPOLL_CTL_ADD, io_fd_, &ev) != 0)
            fail("rt reactor: epoll_ctl");
    }
    ~epoll_driver() override {
        free_retired(true);
        close_all();
    }

    rt::io_backend kind() const noexcept override { return rt::io_backend::epoll; }

    io_result<io_registration*> add(int fd) override {
        auto* r = new io_registration();
        r->fd = fd;
        r->driver = this;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = r;
        r->published.store(true, memory_order_release);
        if (epoll_ctl(io_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            int e = errno;
            delete r;
            return make_error(e);
        }
        return r;
    }

    void remove(io_registration* r) noexcept override {
        epoll_ctl(io_fd_, EPOLL_CTL_DEL, r->fd, nullptr);
        bool many;
        {
            std::lock_guard lock(retired_mu_);
            r->retired_next = retired_;
            retired_ = r;
            many = ++retired_count_ == retire_batch;
        }
        // An idle reactor would hold removed registrations until its next event: with many
        // waiting, wake it to free them.
        if (many)
            unpark();
    }

    void wait(const timespec* timeout, std::vector<task_header*>& woken) override {
        // Events of the previous wait are all handled: what was removed since can go.
        free_retired(false);
        epoll_event events[2];
        int n = epoll_pwait2(wait_fd_, events, 2, timeout, nullptr);
        bool io = false;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.ptr == nullptr) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t x = ::read(event_fd_, &v, sizeof v);
            } else {
                io = true;
            }
        }
        if (!io)
            return;
        armed_.store(false, memory_order_seq_cst); // the kernel disarmed the one-shot entry
        take(woken);
    }

    void unpark() noexcept override {
        std::uint64_t one = 1;
        // EAGAIN means the counter is already non-zero: a wake-up is pending anyway.
        [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
    }

    bool poll_ready(std::vector<task_header*>& woken) override {
        harvest_.fetch_add(harvest_one + 1, memory_order_acq_rel);
        take(woken);
        harvest_.fetch_sub(1, memory_order_release);
        return true;
    }

    bool watching() const noexcept override { return armed_.load(memory_order_seq_cst); }

    void rewatch() noexcept override {
        if (armed_.exchange(true, memory_order_seq_cst))
            return;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLONESHOT;
        ev.data.ptr = this;
        epoll_ctl(wait_fd_, EPOLL_CTL_MOD, io_fd_, &ev);
    }

    std::uint64_t harvests() const noexcept override {
        return harvest_.load(memory_order_relaxed) / harvest_one;
    }

private:
    static constexpr std::uint64_t harvest_one = 1u << 16;

    [[noreturn]] void fail(const char* what) {
        int e = errno;
        close_all();
        throw std::system_error(e, std::system_category(), what);
    }
    void close_all() noexcept {
        for (int fd : {event_fd_, wait_fd_, io_fd_})
            if (fd >= 0)
                ::close(fd);
    }

    // Takes what the descriptor set has ready now (never blocks).
    void take(std::vector<task_header*>& woken) {
        epoll_event events[256];
        int n = epoll_wait(io_fd_, events, 256, 0);
        for (int i = 0; i < n; ++i) {
            auto* r = static_cast<io_registration*>(events[i].data.ptr);
            [[maybe_unused]] bool seen = r->published.load(memory_order_acquire);
            r->set_ready(io_registration::from_poll_events(events[i].events), woken);
        }
    }

    // Reactor thread (or the destructor, `all`): frees removed registrations no harvest can hold.
    void free_retired(bool all) noexcept {
        {
            std::lock_guard lock(retired_mu_);
            while (retired_ != nullptr) {
                io_registration* next = retired_->retired_next;
                retired_->retired_next = pending_;
                pending_ = retired_;
                retired_ = next;
            }
            retired_count_ = 0;
        }
        if (!all && (harvest_.load(memory_order_acquire) & (harvest_one - 1)) != 0)
            return; // a worker may still be handling one of them: next time
        while (pending_ != nullptr) {
            io_registration* next = pending_->retired_next;
            delete pending_;
            pending_ = next;
        }
    }

    int io_fd_ = -1;
    int wait_fd_ = -1;
    int event_fd_ = -1;
    atomic<bool> armed_{true};
    atomic<std::uint64_t> harvest_{0};
    mutex retired_mu_;
    io_registration* retired_ = nullptr;
    std::size_t retired_count_ = 0;
    io_registration* pending_ = nullptr; // reactor thread only
    static constexpr std::size_t retire_batch = 256;
};

} // namespace

std::unique_ptr<io_driver> make_epoll_driver() {
    return std::make_unique<epoll_driver>();
}

} // namespace rt::detail
