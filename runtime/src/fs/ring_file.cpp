#include "fs/ring_file.hpp"

#include "fs/blocking_call.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <unistd.h>

namespace rt::fs::detail {

namespace {

// Larger requests are split: a partial result, as read(2) and write(2) may give.
constexpr std::size_t chunk_max = 1024 * 1024;

// Hands `op` to the ring, which holds a reference to it until the completion.
void submit(rt::detail::io_driver& d, const std::shared_ptr<ring_file_op>& op,
            const rt::detail::ring_request& req) {
    op->self = op;
    op->driver = &d;
    d.submit(req, op.get());
}

// Waits for one operation's completion and gives its result. Dropping it leaves the operation
// running; the file settles it before its next operation.
class op_awaiter {
public:
    RT_AWAIT_POINT("fs::ring");
    explicit op_awaiter(std::shared_ptr<ring_file_op> op) noexcept : op_(std::move(op)) {}
    op_awaiter(const op_awaiter&) = delete;
    op_awaiter& operator=(const op_awaiter&) = delete;
    ~op_awaiter() {
        std::lock_guard lock(op_->mu);
        if (op_->waiting == &w_)
            op_->waiting = nullptr;
        if (!op_->done && !op_->cancelled) {
            op_->cancelled = true;
            op_->driver->cancel(op_.get());
        } else if (op_->done && !op_->taken && op_->opens && op_->res >= 0) {
            // Opened, but the await that wanted the descriptor was dropped first.
            ::close(op_->res);
            op_->res = -ECANCELED;
        }
    }

    bool await_ready() {
        std::lock_guard lock(op_->mu);
        return op_->done;
    }
    bool await_suspend(std::coroutine_handle<>) {
        w_.w = rt::detail::current_waker();
        std::lock_guard lock(op_->mu);
        if (op_->done)
            return false;
        op_->waiting = &w_;
        return true;
    }
    int await_resume() {
        std::lock_guard lock(op_->mu);
        if (op_->done)
            op_->taken = true;
        return op_->res;
    }

private:
    std::shared_ptr<ring_file_op> op_;
    rt::detail::waiter w_;
};

// Waits for an operation a dropped await left behind and applies it to the position.
rt::task<void> settle(file_handle& h) {
    while (h.pending) {
        std::shared_ptr<ring_file_op> op = h.pending;
        op_awaiter wait(op);
        int res = co_await wait;
        {
            std::lock_guard lock(op->mu);
            if (!op->done)
                continue; // resumed early: wait again
        }
        if (op->write && res > 0)
            h.pos += static_cast<std::uint64_t>(res);
        h.pending.reset();
    }
}

rt::task<io_result<std::size_t>> run(std::shared_ptr<file_handle> h, bool write,
                                     std::span<const std::byte> out, std::span<std::byte> in) {
    rt::detail::io_driver* d = ring_driver();
    co_await settle(*h);
    for (;;) {
        auto op = std::make_shared<ring_file_op>();
        op->write = write;
        op->len = std::min(write ? out.size() : in.size(), chunk_max);
        op->buf.reset(new std::byte[std::max<std::size_t>(op->len, 1)]);
        if (write && op->len > 0)
            std::memcpy(op->buf.get(), out.data(), op->len);
        h->pending = op;
        rt::detail::ring_request req;
        req.op = write ? rt::detail::ring_request::opcode::write
                       : rt::detail::ring_request::opcode::read;
        req.fd = h->fd;
        req.buf = op->buf.get();
        req.len = static_cast<std::uint32_t>(op->len);
        // -1: "the current position", the only offset a pipe or other stream accepts.
        req.offset = h->stream ? ~std::uint64_t{0} : h->pos;
        submit(*d, op, req);
        co_await settle(*h); // our own operation: done when it has completed
        int res;
        {
            std::lock_guard lock(op->mu);
            res = op->res;
        }
        if (res == -EINTR || res == -EAGAIN)
            continue;
        if (res < 0)
            co_return rt::detail::make_error(-res);
        auto n = static_cast<std::size_t>(res);
        if (!write) {
            std::memcpy(in.data(), op->buf.get(), n);
            h->pos += n;
        }
        co_return n;
    }
}

// Submits one path operation (or fsync) and waits for its result: >= 0, or -errno.
rt::task<int> call(std::shared_ptr<ring_file_op> op, rt::detail::ring_request req) {
    submit(*ring_driver(), op, req);
    op_awaiter wait(op); // one awaiter for every turn: dropping it is what cancels
    for (;;) {
        int res = co_await wait;
        std::lock_guard lock(op->mu);
        if (op->done)
            co_return res;
    }
}

} // namespace

void ring_file_op::complete(int r, std::vector<rt::detail::task_header*>& woken) {
    std::shared_ptr<ring_file_op> keep; // released last: it may be the last reference
    std::lock_guard lock(mu);
    keep = std::move(self);
    if (cancelled && opens && r >= 0) {
        ::close(r); // the open was dropped: nobody will ever own this descriptor
        r = -ECANCELED;
    }
    done = true;
    res = r;
    if (waiting != nullptr) {
        rt::detail::prepare_io_wake(waiting, woken);
        waiting = nullptr;
    }
}

rt::detail::io_driver* ring_driver() {
    rt::detail::io_driver& d = rt::detail::current_runtime("rt::fs").io.driver();
    return d.completion_based() ? &d : nullptr;
}

rt::task<io_result<std::size_t>> ring_read(std::shared_ptr<file_handle> h,
                                           std::span<std::byte> buf) {
    return run(std::move(h), false, {}, buf);
}

rt::task<io_result<std::size_t>> ring_write(std::shared_ptr<file_handle> h,
                                            std::span<const std::byte> buf) {
    return run(std::move(h), true, buf, {});
}

rt::task<io_result<int>> ring_open(std::string path, int flags, unsigned mode) {
    auto op = std::make_shared<ring_file_op>();
    op->path = std::move(path);
    op->opens = true;
    rt::detail::ring_request req;
    req.op = rt::detail::ring_request::opcode::openat;
    req.fd = AT_FDCWD;
    req.path = op->path.c_str();
    req.flags = flags | O_CLOEXEC;
    req.mode = mode;
    int res = co_await call(op, req);
    if (res < 0)
        co_return rt::detail::make_error(-res);
    co_return res;
}

rt::task<io_result<file_metadata>> ring_metadata(std::shared_ptr<file_handle> h, std::string path) {
    auto op = std::make_shared<ring_file_op>();
    op->path = std::move(path);
    rt::detail::ring_request req;
    req.op = rt::detail::ring_request::opcode::statx;
    req.fd = h ? h->fd : AT_FDCWD;
    req.path = op->path.c_str();
    req.flags = h ? AT_EMPTY_PATH : 0;
    req.buf = &op->stx;
    int res = co_await call(op, req);
    if (res < 0)
        co_return rt::detail::make_error(-res);
    const struct statx& x = op->stx;
    co_return make_metadata(x.stx_mode, x.stx_size, x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec);
}

rt::task<io_result<void>> ring_unlink(std::string path) {
    auto op = std::make_shared<ring_file_op>();
    op->path = std::move(path);
    rt::detail::ring_request req;
    req.op = rt::detail::ring_request::opcode::unlinkat;
    req.fd = AT_FDCWD;
    req.path = op->path.c_str();
    int res = co_await call(op, req);
    if (res < 0)
        co_return rt::detail::make_error(-res);
    co_return io_result<void>{};
}

rt::task<io_result<void>> ring_fsync(std::shared_ptr<file_handle> h) {
    auto op = std::make_shared<ring_file_op>();
    rt::detail::ring_request req;
    req.op = rt::detail::ring_request::opcode::fsync;
    req.fd = h->fd;
    int res = co_await call(op, req);
    if (res < 0)
        co_return rt::detail::make_error(-res);
    co_return io_result<void>{};
}

} // namespace rt::fs::detail
