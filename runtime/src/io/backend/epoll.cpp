// The epoll backend: every descriptor is registered once, edge-triggered, for input, output and
// peer shutdown; an eventfd (data.ptr == nullptr) interrupts the wait from other threads.
//
// Edge triggering means the kernel reports a change once: the registration keeps it as readiness
// until a task's system call answers EAGAIN (see rt/detail/io_source.hpp), so no change is lost
// and a descriptor costs no epoll_ctl per operation.
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
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0)
            throw std::system_error(errno, std::system_category(), "rt reactor: epoll_create1");
        event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (event_fd_ < 0) {
            int e = errno;
            ::close(epoll_fd_);
            throw std::system_error(e, std::system_category(), "rt reactor: eventfd");
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
            int e = errno;
            ::close(event_fd_);
            ::close(epoll_fd_);
            throw std::system_error(e, std::system_category(), "rt reactor: epoll_ctl");
        }
    }
    ~epoll_driver() override {
        free_retired();
        ::close(event_fd_);
        ::close(epoll_fd_);
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
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            int e = errno;
            delete r;
            return make_error(e);
        }
        return r;
    }

    void remove(io_registration* r) noexcept override {
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, r->fd, nullptr);
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
        free_retired();
        epoll_event events[256];
        int n = epoll_pwait2(epoll_fd_, events, 256, timeout, nullptr);
        for (int i = 0; i < n; ++i) {
            auto* r = static_cast<io_registration*>(events[i].data.ptr);
            if (r == nullptr) {
                std::uint64_t v;
                [[maybe_unused]] ssize_t x = ::read(event_fd_, &v, sizeof v);
                continue;
            }
            [[maybe_unused]] bool seen = r->published.load(memory_order_acquire);
            r->set_ready(io_registration::from_poll_events(events[i].events), woken);
        }
    }

    void unpark() noexcept override {
        std::uint64_t one = 1;
        // EAGAIN means the counter is already non-zero: a wake-up is pending anyway.
        [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
    }

private:
    void free_retired() noexcept {
        io_registration* list;
        {
            std::lock_guard lock(retired_mu_);
            list = retired_;
            retired_ = nullptr;
            retired_count_ = 0;
        }
        while (list != nullptr) {
            io_registration* next = list->retired_next;
            delete list;
            list = next;
        }
    }

    int epoll_fd_ = -1;
    int event_fd_ = -1;
    mutex retired_mu_;
    io_registration* retired_ = nullptr;
    std::size_t retired_count_ = 0;
    static constexpr std::size_t retire_batch = 256;
};

} // namespace

std::unique_ptr<io_driver> make_epoll_driver() {
    return std::make_unique<epoll_driver>();
}

} // namespace rt::detail
