// The io_uring backend: readiness and completions through one ring.
//
// Readiness: each descriptor gets one multishot IORING_OP_POLL_ADD (edge-triggered, the kernel's
// default for multishot polls), whose completions feed the same registrations, readiness loops
// and batch wakes as epoll; accept, connect and datagrams use it.
// Completions: stream reads and writes (io_registration::ops) and file reads and writes
// (fs/ring_file.cpp) are submitted as RECV/SEND/READ/WRITE and finished by their CQE.
//
// user_data: a registration's address for its poll; a ring_completion's address | 1 for an
// operation; tag_ignore and tag_kick for the cancellations and the eventfd.
//
// Threads: any thread submits (add, remove, submit, cancel, the kick) under `sq_mu_`, which owns
// the submission queue; only the reactor thread reads the completion queue, and it waits with
// io_uring_enter without submitting, so it never touches the submission queue outside the lock.
// Lock order: a registration's `mu`, then `sq_mu_`.
// Removal: cancellations are asynchronous, so a registration is freed when the last ring
// operation naming it (its poll, a read, a write) has completed and `removing` is set; one with
// nothing in flight is retired and freed at the next wait. A multishot poll may also end by
// itself (the kernel ran short of something): then it is re-armed. Both decisions are taken
// under the registration's lock, so a removal and a re-arm cannot cross.
// Teardown: every operation still in flight is cancelled and waited for before the ring goes,
// so the kernel never writes into memory that is freed.
#include "io/io_driver.hpp"

#include <cerrno>
#include <chrono>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <unordered_set>

namespace rt::detail {

namespace {

constexpr std::uint64_t tag_ignore = 1; // completions of the cancellations
constexpr std::uint64_t tag_kick = 2;   // the eventfd that interrupts the wait
constexpr std::uint64_t tag_op = 1;     // low bit of a ring_completion's user_data
constexpr unsigned poll_mask = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;

std::uint64_t op_data(ring_completion* c) noexcept {
    return reinterpret_cast<std::uint64_t>(c) | tag_op;
}

class uring_driver final : public io_driver {
public:
    uring_driver() {
        // COOP_TASKRUN: the kernel finishes an operation (a RECV retried when data came) in the
        // task work of the thread that submitted it, a worker. Without the flag it interrupts
        // that worker with an IPI to do so; with it, a running worker does it at its next system
        // call and a sleeping one is still woken. On this machine the IPIs cost a 64-byte echo
        // about 40% of its throughput. Kernels before 5.19 refuse the flag: go without.
        io_uring_params p{};
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
        p.cq_entries = 4096;
        int rc = io_uring_queue_init_params(256, &ring_, &p);
        if (rc == -EINVAL) {
            p = io_uring_params{};
            p.flags = IORING_SETUP_CQSIZE;
            p.cq_entries = 4096;
            rc = io_uring_queue_init_params(256, &ring_, &p);
        }
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
        drain();
        io_uring_queue_exit(&ring_);
        ::close(event_fd_);
        free_retired();
        for (io_registration* r : live_)
            delete r;
    }

    rt::io_backend kind() const noexcept override { return rt::io_backend::io_uring; }
    bool completion_based() const noexcept override { return true; }

    io_result<io_registration*> add(int fd) override {
        auto* r = new io_registration();
        r->fd = fd;
        r->driver = this;
        r->ring_refs = 1; // the poll
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
        std::lock_guard rl(r->mu);
        r->removing = true;
        std::lock_guard lock(sq_mu_);
        if (r->ring_refs == 0) {
            // Nothing in flight names it; the reactor may still be handling an event of the
            // current wait, so it goes at the next one.
            live_.erase(r);
            retired_.push_back(r);
            return;
        }
        // ASYNC_CANCEL, not POLL_REMOVE: POLL_REMOVE gives up with EALREADY when the poll is
        // being handled right then, and a multishot poll would then stay armed (holding the
        // file open) forever. A cancel marks it and lets that handling finish it.
        prep_cancel(reinterpret_cast<std::uint64_t>(r));
        for (stream_op& op : r->ops)
            if (op.busy)
                prep_cancel(op_data(&op));
        io_uring_submit(&ring_);
    }

    void submit(const ring_request& req, ring_completion* c) noexcept override {
        if (c->owner != nullptr)
            ++c->owner->ring_refs; // the caller holds owner->mu
        inflight_.fetch_add(1, memory_order_relaxed);
        c->published.fetch_add(1, memory_order_release);
        counts_[static_cast<int>(req.op)].fetch_add(1, memory_order_relaxed);
        std::lock_guard lock(sq_mu_);
        io_uring_sqe* sqe = next_sqe();
        switch (req.op) {
        case ring_request::opcode::recv:
            io_uring_prep_recv(sqe, req.fd, req.buf, req.len, 0);
            break;
        case ring_request::opcode::send:
            // MSG_NOSIGNAL: a peer that went away is EPIPE, not a process-killing SIGPIPE.
            io_uring_prep_send(sqe, req.fd, req.buf, req.len, MSG_NOSIGNAL);
            break;
        case ring_request::opcode::read:
            io_uring_prep_read(sqe, req.fd, req.buf, req.len, req.offset);
            break;
        case ring_request::opcode::write:
            io_uring_prep_write(sqe, req.fd, req.buf, req.len, req.offset);
            break;
        case ring_request::opcode::openat:
            io_uring_prep_openat(sqe, req.fd, req.path, req.flags, req.mode);
            break;
        case ring_request::opcode::statx:
            io_uring_prep_statx(sqe, req.fd, req.path, req.flags, STATX_BASIC_STATS,
                                static_cast<struct statx*>(req.buf));
            break;
        case ring_request::opcode::unlinkat:
            io_uring_prep_unlinkat(sqe, req.fd, req.path, req.flags);
            break;
        case ring_request::opcode::fsync:
            io_uring_prep_fsync(sqe, req.fd, 0);
            break;
        }
        io_uring_sqe_set_data64(sqe, op_data(c));
        io_uring_submit(&ring_);
    }

    void cancel(ring_completion* c) noexcept override {
        cancels_.fetch_add(1, memory_order_relaxed);
        std::lock_guard lock(sq_mu_);
        prep_cancel(op_data(c));
        io_uring_submit(&ring_);
    }

    io_driver_stats stats() const noexcept override {
        io_driver_stats s;
        s.poll_events = poll_events_.load(memory_order_relaxed);
        s.stream_reads = counts_[0].load(memory_order_relaxed);
        s.stream_writes = counts_[1].load(memory_order_relaxed);
        s.file_reads = counts_[2].load(memory_order_relaxed);
        s.file_writes = counts_[3].load(memory_order_relaxed);
        s.file_opens = counts_[4].load(memory_order_relaxed);
        s.file_stats = counts_[5].load(memory_order_relaxed);
        s.file_unlinks = counts_[6].load(memory_order_relaxed);
        s.file_syncs = counts_[7].load(memory_order_relaxed);
        s.cancels = cancels_.load(memory_order_relaxed);
        return s;
    }

    void wait(const timespec* timeout, std::vector<task_header*>& woken) override {
        // Events of the previous wait are all handled: what was retired since can go.
        free_retired();
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
        reap(woken);
    }

    void unpark() noexcept override {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
    }

private:
    void reap(std::vector<task_header*>& woken) {
        unsigned head;
        unsigned seen = 0;
        io_uring_cqe* cqe;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            handle(cqe->user_data, cqe->res, cqe->flags, woken);
        }
        io_uring_cq_advance(&ring_, seen);
    }

    void handle(std::uint64_t data, int res, unsigned flags, std::vector<task_header*>& woken) {
        if (data == tag_ignore)
            return;
        bool final = !(flags & IORING_CQE_F_MORE);
        if (data == tag_kick) {
            std::uint64_t v;
            [[maybe_unused]] ssize_t n = ::read(event_fd_, &v, sizeof v);
            if (final && !draining_) {
                std::lock_guard lock(sq_mu_);
                arm(event_fd_, tag_kick);
                io_uring_submit(&ring_);
            }
            return;
        }
        if (data & tag_op) {
            complete_op(reinterpret_cast<ring_completion*>(data & ~tag_op), res, woken);
            return;
        }
        auto* r = reinterpret_cast<io_registration*>(data);
        [[maybe_unused]] bool published = r->published.load(memory_order_acquire);
        if (res > 0) {
            bump(poll_events_);
            r->set_ready(io_registration::from_poll_events(static_cast<std::uint32_t>(res)), woken);
        }
        if (!final)
            return;
        // The poll failed for good (a bad descriptor): report it as an error readiness instead
        // of re-arming forever.
        bool failed = res < 0 && res != -ECANCELED && res != -ENOBUFS && res != -EOVERFLOW;
        {
            std::lock_guard lock(r->mu);
            if (!r->removing && !failed && !draining_) {
                std::lock_guard sq(sq_mu_);
                arm(r->fd, data);
                io_uring_submit(&ring_);
                return;
            }
        }
        if (failed)
            r->set_ready(io_registration::error, woken);
        release(r);
    }

    void complete_op(ring_completion* c, int res, std::vector<task_header*>& woken) {
        [[maybe_unused]] auto published = c->published.load(memory_order_acquire);
        // Read before complete(): a file operation may free itself there.
        io_registration* owner = c->owner;
        inflight_.fetch_sub(1, memory_order_relaxed);
        c->complete(res, woken);
        if (owner != nullptr)
            release(owner);
    }

    // Reactor thread: one ring operation naming `r` has ended.
    void release(io_registration* r) {
        bool free_now;
        {
            std::lock_guard lock(r->mu);
            free_now = --r->ring_refs == 0 && r->removing;
        }
        if (!free_now)
            return;
        {
            std::lock_guard lock(sq_mu_);
            live_.erase(r);
        }
        delete r;
    }

    // Cancels everything and reaps until no operation is in flight (bounded: a kernel that never
    // answers must not hang the process's exit).
    void drain() noexcept {
        draining_ = true;
        {
            std::lock_guard lock(sq_mu_);
            io_uring_sqe* sqe = next_sqe();
            io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
            io_uring_sqe_set_data64(sqe, tag_ignore);
            io_uring_submit(&ring_);
        }
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        std::vector<task_header*> woken;
        while (inflight_.load(memory_order_relaxed) > 0 &&
               std::chrono::steady_clock::now() < until) {
            __kernel_timespec ts{0, 10'000'000};
            io_uring_cqe* cqe = nullptr;
            io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
            reap(woken);
        }
        // Tasks are all cancelled by now (runtime shutdown, step 5): nothing to wake.
        for (task_header* t : woken)
            ref_dec(t);
    }

    void free_retired() noexcept {
        std::vector<io_registration*> gone;
        {
            std::lock_guard lock(sq_mu_);
            gone.swap(retired_);
        }
        for (io_registration* r : gone)
            delete r;
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
    void prep_cancel(std::uint64_t data) {
        io_uring_sqe* sqe = next_sqe();
        io_uring_prep_cancel64(sqe, data, 0);
        io_uring_sqe_set_data64(sqe, tag_ignore);
    }

    io_uring ring_{};
    int event_fd_ = -1;
    mutex sq_mu_;
    std::unordered_set<io_registration*> live_; // guarded by sq_mu_
    std::vector<io_registration*> retired_;     // guarded by sq_mu_
    atomic<std::int64_t> inflight_{0};          // submitted ring_completions not yet completed
    bool draining_ = false;                     // set by the destructor, reactor thread gone
    atomic<std::uint64_t> poll_events_{0};      // written by the reactor thread only (bump)
    atomic<std::uint64_t> counts_[ring_request::opcode_count] = {}; // submissions by opcode
    atomic<std::uint64_t> cancels_{0};
};

} // namespace

std::unique_ptr<io_driver> make_uring_driver() {
    return std::make_unique<uring_driver>();
}

} // namespace rt::detail
