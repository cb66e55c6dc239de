// The io_uring backend: readiness through io_uring instead of epoll. Each descriptor gets one
// multishot IORING_OP_POLL_ADD (edge-triggered, the kernel's default for multishot polls), and
// its completions feed the same registrations, readiness loops and batch wakes as epoll; the
// system calls themselves still run on the workers. (Completion-based reads and writes, and
// files through the ring, are not done yet.)
//
// Threads: any thread submits (add, remove, the kick) under `sq_mu_`, which owns the submission
// queue; only the reactor thread reads the completion queue, and it waits with io_uring_enter
// without submitting, so it never touches the submission queue outside the lock.
// Removal: the cancellation is asynchronous, so a registration is freed when its poll's final
// completion (no IORING_CQE_F_MORE) arrives and `removing` is set. A multishot poll may also end
// by itself (the kernel ran short of something): then it is re-armed. Both decisions are taken
// under `sq_mu_`, so a removal and a re-arm cannot cross: a poll re-armed before a removal is the
// one that removal cancels.
#include "io/io_driver.hpp"

#include <cerrno>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <unordered_set>

namespace rt::detail {

namespace {

constexpr std::uint64_t tag_ignore = 1; // completions of the cancellations
constexpr std::uint64_t tag_kick = 2;   // the eventfd that interrupts the wait
constexpr unsigned poll_mask = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;

class uring_driver final : public io_driver {
public:
    uring_driver() {
        io_uring_params p{};
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = 4096;
        int rc = io_uring_queue_init_params(256, &ring_, &p);
        if (rc < 0)
            throw std::system_error(-rc, std::system_category(), "io_uring_queue_init");
        if (!(p.features & IORING_FEAT_EXT_ARG) || !(p.features & IORING_FEAT_NODROP)) {
            io_uring_queue_exit(&ring_);
            throw std::system_error(ENOSYS, std::system_category(),
                                    "io_uring without EXT_ARG/NODROP");
        }
        event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (event_fd_ < 0) {
            int e = errno;
            io_uring_queue_exit(&ring_);
            throw std::system_error(e, std::system_category(), "rt reactor: eventfd");
        }
        std::lock_guard lock(sq_mu_);
        arm(event_fd_, tag_kick);
        if (int s = io_uring_submit(&ring_); s < 0) {
            io_uring_queue_exit(&ring_);
            ::close(event_fd_);
            throw std::system_error(-s, std::system_category(), "io_uring_submit");
        }
    }
    ~uring_driver() override {
        // Tearing the ring down cancels every poll; what was never freed is freed here.
        io_uring_queue_exit(&ring_);
        ::close(event_fd_);
        for (io_registration* r : live_)
            delete r;
    }

    rt::io_backend kind() const noexcept override { return rt::io_backend::io_uring; }

    io_result<io_registration*> add(int fd) override {
        auto* r = new io_registration();
        r->fd = fd;
        r->driver = this;
        r->published.store(true, memory_order_release);
        std::lock_guard lock(sq_mu_);
        arm(fd, reinterpret_cast<std::uint64_t>(r));
        int s = io_uring_submit(&ring_);
        if (s < 0) {
            delete r;
            return make_error(-s);
        }
        live_.insert(r);
        return r;
    }

    void remove(io_registration* r) noexcept override {
        std::lock_guard lock(sq_mu_);
        r->removing = true;
        io_uring_sqe* sqe = next_sqe();
        // ASYNC_CANCEL, not POLL_REMOVE: POLL_REMOVE gives up with EALREADY when the poll is
        // being handled right then, and a multishot poll would then stay armed (holding the
        // file open) forever. A cancel marks it and lets that handling finish it.
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(r), 0);
        io_uring_sqe_set_data64(sqe, tag_ignore);
        io_uring_submit(&ring_);
    }

    void wait(const timespec* timeout, std::vector<task_header*>& woken) override {
        if (io_uring_cq_ready(&ring_) == 0 &&
            !(timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_nsec == 0)) {
            __kernel_timespec ts{};
            io_uring_getevents_arg arg{};
            arg.sigmask = 0;
            arg.sigmask_sz = _NSIG / 8;
            if (timeout != nullptr) {
                ts.tv_sec = timeout->tv_sec;
                ts.tv_nsec = timeout->tv_nsec;
                arg.ts = reinterpret_cast<std::uint64_t>(&ts);
            }
            // No submission here: the submission queue belongs to whoever holds sq_mu_.
            io_uring_enter2(static_cast<unsigned>(ring_.ring_fd), 0, 1,
                            IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                            reinterpret_cast<sigset_t*>(&arg), sizeof arg);
        }
        unsigned head;
        unsigned seen = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            handle(cqe->user_data, cqe->res, cqe->flags, woken);
        }
        io_uring_cq_advance(&ring_, seen);
    }

    void unpark() noexcept override {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
    }

private:
    void handle(std::uint64_t data, int res, unsigned flags, std::vector<task_header*>& woken) {
        if (data == tag_ignore)
            return;
        bool final = !(flags & IORING_CQE_F_MORE);
        if (data == tag_kick) {
            std::uint64_t v;
            [[maybe_unused]] ssize_t n = ::read(event_fd_, &v, sizeof v);
            if (final) {
                std::lock_guard lock(sq_mu_);
                arm(event_fd_, tag_kick);
                io_uring_submit(&ring_);
            }
            return;
        }
        auto* r = reinterpret_cast<io_registration*>(data);
        [[maybe_unused]] bool published = r->published.load(memory_order_acquire);
        if (res > 0)
            r->set_ready(io_registration::from_poll_events(static_cast<std::uint32_t>(res)), woken);
        if (!final)
            return;
        std::lock_guard lock(sq_mu_);
        if (r->removing) {
            live_.erase(r);
            delete r;
            return;
        }
        if (res < 0 && res != -ECANCELED && res != -ENOBUFS && res != -EOVERFLOW) {
            // The poll failed for good (a bad descriptor): report it as an error readiness
            // instead of re-arming forever.
            r->set_ready(io_registration::error, woken);
            return;
        }
        arm(r->fd, data);
        io_uring_submit(&ring_);
    }

    // Under sq_mu_.
    io_uring_sqe* next_sqe() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        while (sqe == nullptr) {
            io_uring_submit(&ring_);
            sqe = io_uring_get_sqe(&ring_);
        }
        return sqe;
    }
    void arm(int fd, std::uint64_t data) {
        io_uring_sqe* sqe = next_sqe();
        io_uring_prep_poll_multishot(sqe, fd, poll_mask);
        io_uring_sqe_set_data64(sqe, data);
    }

    io_uring ring_{};
    int event_fd_ = -1;
    mutex sq_mu_;
    std::unordered_set<io_registration*> live_; // guarded by sq_mu_
};

} // namespace

std::unique_ptr<io_driver> make_uring_driver() {
    return std::make_unique<uring_driver>();
}

} // namespace rt::detail
