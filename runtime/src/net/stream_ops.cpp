// The stream and socket operations. Two shapes:
// - Readiness loops (rt/detail/io_source.hpp describes the protocol): wait for readiness, try
//   the non-blocking call, and on EAGAIN clear the readiness seen at `tick` and wait again.
//   Used by every operation on epoll, and by accept, connect and datagrams on io_uring.
// - Completions (stream read and write on io_uring, io/registration.hpp has the protocol): try
//   the non-blocking call first (data already queued needs no ring round trip); on EAGAIN submit
//   RECV/SEND on a buffer the registration owns and suspend until the CQE. A dropped await
//   cancels its operation; the next operation in that direction waits for the completion, and a
//   read takes the bytes a cancelled RECV still received before asking the kernel again.
#include "rt/io/stream_ops.hpp"

#include "io/io_driver.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <unistd.h>

namespace rt::detail {

namespace {

// Larger reads and writes go through the ring in pieces (partial results, as read(2) gives).
constexpr std::size_t ring_read_max = 64 * 1024;
constexpr std::size_t ring_write_max = 64 * 1024;
constexpr std::size_t ring_buf_min = 4 * 1024;

// An attempt's result: bytes moved or an error, or nullopt to make a new attempt.
using read_result = std::optional<io_result<std::size_t>>;

// One attempt of a completion-based read or write. await_resume gives the result, or nullopt
// when the caller should make a new attempt (it waited for a previous operation to end, yielded
// for the budget, or lost a race).
class ring_attempt {
public:
    ring_attempt(const io_source& s, io_direction dir) noexcept
        : reg_(s.registration()), op_(reg_->ops[static_cast<int>(dir)]) {}
    ring_attempt(const ring_attempt&) = delete;
    ring_attempt& operator=(const ring_attempt&) = delete;
    ~ring_attempt() {
        if (state_ == state::idle_wait || state_ == state::op_wait)
            drop();
    }

protected:
    enum class state : std::uint8_t { none, yielded, idle_wait, op_wait };

    // await_suspend's common part: true (suspended) when it had to yield or to wait for the
    // operation in flight; else it returns with the lock held and the caller submits or finishes.
    bool wait_turn(std::unique_lock<mutex>& lock) {
        if (must_yield_) {
            must_yield_ = false;
            yield_current();
            state_ = state::yielded;
            return true;
        }
        w_.w.w = current_waker();
        lock = std::unique_lock(reg_->mu);
        if (op_.busy) {
            w_.w.notified = false;
            op_.idle.push_back(&w_.w);
            state_ = state::idle_wait;
            lock.unlock();
            return true;
        }
        return false;
    }

    // Under the lock: submits `op` on the registration's buffer for `len` bytes, first copying
    // them from `copy_from` when given (the kernel reads a copy: the caller's buffer may be gone
    // before the completion).
    void start(ring_request::opcode op, std::size_t len, const std::byte* copy_from = nullptr) {
        op_.reserve(std::max(len, ring_buf_min));
        if (copy_from != nullptr)
            std::memcpy(op_.buf.get(), copy_from, len);
        op_.busy = true;
        w_.done = false;
        op_.awaiting = &w_;
        state_ = state::op_wait;
        reg_->driver->submit({op, reg_->fd, op_.buf.get(), static_cast<std::uint32_t>(len), 0},
                             &op_);
    }

    // await_resume: the result found without suspending, an error, or what `done` makes of the
    // byte count of a completed operation (called under the lock); nullopt to try again.
    template <class Done>
    read_result resume(Done done) {
        if (state_ == state::none)
            return std::move(result_);
        std::unique_lock<mutex> lock;
        auto res = finish(lock);
        if (!res)
            return std::nullopt;
        if (*res < 0)
            return io_result<std::size_t>(make_error(-*res));
        return done(static_cast<std::size_t>(*res));
    }

    // await_resume's common part: the completion's result, or nullopt to try again.
    std::optional<int> finish(std::unique_lock<mutex>& lock) {
        state s = state_;
        state_ = state::none;
        if (s == state::none || s == state::yielded)
            return std::nullopt;
        lock = std::unique_lock(reg_->mu);
        // A resume without the completion (not expected) must still leave nothing pointing here.
        if (s == state::idle_wait) {
            if (w_.w.linked)
                op_.idle.remove(&w_.w);
            return std::nullopt;
        }
        if (!w_.done) {
            if (op_.awaiting == &w_)
                op_.awaiting = nullptr;
            return std::nullopt;
        }
        int res = w_.res;
        if (res == -EAGAIN || res == -EINTR)
            return std::nullopt;
        if (res == -ENOTSOCK) {
            reg_->not_socket.store(true, memory_order_relaxed); // back to the readiness loop
            return std::nullopt;
        }
        return res;
    }

    // Dropped while waiting (abort, timeout, select): unlink, or cancel the operation. Its
    // completion still comes; until then the direction stays busy, and a read's bytes stay in
    // the stash for the next read.
    void drop() noexcept {
        std::lock_guard lock(reg_->mu);
        if (state_ == state::idle_wait && w_.w.linked)
            op_.idle.remove(&w_.w);
        if (state_ == state::op_wait && op_.awaiting == &w_) {
            op_.awaiting = nullptr;
            reg_->driver->cancel(&op_);
        }
        state_ = state::none;
    }

    io_registration* reg_;
    stream_op& op_;
    op_waiter w_;
    state state_ = state::none;
    bool must_yield_ = false;
    read_result result_; // set by await_ready when it completes without the ring
};

// Under the registration's lock: moves stashed bytes into `buf`.
std::size_t take_stash(stream_op& op, std::span<std::byte> buf) noexcept {
    std::size_t n = std::min(op.stash_len, buf.size());
    std::memcpy(buf.data(), op.buf.get() + op.stash_off, n);
    op.stash_off += n;
    op.stash_len -= n;
    return n;
}

class ring_read_awaiter : public ring_attempt {
public:
    RT_AWAIT_POINT("io::read");
    ring_read_awaiter(const io_source& s, std::span<std::byte> buf) noexcept
        : ring_attempt(s, io_direction::read), buf_(buf) {}

    bool await_ready() {
        if (!coop_consume()) {
            must_yield_ = true;
            return false;
        }
        {
            std::lock_guard lock(reg_->mu);
            if (op_.busy)
                return false;
            if (op_.stash_len > 0 || buf_.empty()) {
                result_ = take_stash(op_, buf_);
                return true;
            }
        }
        // Nothing in flight and nothing stashed: bytes the kernel already has come first.
        ssize_t n = ::read(reg_->fd, buf_.data(), buf_.size());
        if (n >= 0) {
            result_ = static_cast<std::size_t>(n);
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return false;
        result_ = last_error();
        return true;
    }
    bool await_suspend(std::coroutine_handle<>) {
        std::unique_lock<mutex> lock;
        if (wait_turn(lock))
            return true;
        if (op_.stash_len > 0) {
            result_ = take_stash(op_, buf_);
            return false;
        }
        start(ring_request::opcode::recv, std::min(buf_.size(), ring_read_max));
        return true;
    }
    read_result await_resume() {
        return resume([this](std::size_t n) -> read_result {
            if (n == 0)
                return io_result<std::size_t>(std::size_t{0});
            // The bytes are in the stash; a concurrent reader may have taken them first.
            if (op_.stash_len == 0)
                return std::nullopt;
            return io_result<std::size_t>(take_stash(op_, buf_));
        });
    }

private:
    std::span<std::byte> buf_;
};

class ring_write_awaiter : public ring_attempt {
public:
    RT_AWAIT_POINT("io::write");
    ring_write_awaiter(const io_source& s, std::span<const std::byte> buf) noexcept
        : ring_attempt(s, io_direction::write), buf_(buf) {}

    bool await_ready() {
        if (!coop_consume()) {
            must_yield_ = true;
            return false;
        }
        {
            std::lock_guard lock(reg_->mu);
            if (op_.busy)
                return false; // a cancelled write may still be sending: no interleaving
        }
        ssize_t n = ::send(reg_->fd, buf_.data(), buf_.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            result_ = static_cast<std::size_t>(n);
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return false;
        if (errno == ENOTSOCK) {
            reg_->not_socket.store(true, memory_order_relaxed); // back to the readiness loop
            result_ = std::nullopt;
            return true;
        }
        result_ = last_error();
        return true;
    }
    bool await_suspend(std::coroutine_handle<>) {
        std::unique_lock<mutex> lock;
        if (wait_turn(lock))
            return true;
        start(ring_request::opcode::send, std::min(buf_.size(), ring_write_max), buf_.data());
        return true;
    }
    read_result await_resume() {
        return resume([](std::size_t n) -> read_result { return io_result<std::size_t>(n); });
    }

private:
    std::span<const std::byte> buf_;
};

bool use_ring(const io_source& s) noexcept {
    io_registration* r = s.registration();
    return r != nullptr && r->driver->completion_based() &&
           !r->not_socket.load(memory_order_relaxed);
}

} // namespace

} // namespace rt::detail

namespace rt::io {

using detail::io_direction;

rt::task<io_result<std::size_t>> read_some(const detail::io_source& s, std::span<std::byte> buf) {
    while (detail::use_ring(s)) {
        if (auto r = co_await detail::ring_read_awaiter(s, buf))
            co_return std::move(*r);
    }
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::read);
        ssize_t n = ::read(s.fd(), buf.data(), buf.size());
        if (n >= 0) {
            // A short read drained the queue: the next read waits for an event rather than
            // asking the kernel for EAGAIN (as Tokio does). An event since `tick` keeps it ready.
            s.clear_ready_if_short(io_direction::read, tick, static_cast<std::size_t>(n),
                                   buf.size());
            co_return static_cast<std::size_t>(n);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            s.clear_ready(io_direction::read, tick);
        else if (errno != EINTR)
            co_return detail::last_error();
    }
}

rt::task<io_result<std::size_t>> write_some(const detail::io_source& s,
                                            std::span<const std::byte> buf) {
    while (detail::use_ring(s)) {
        if (auto r = co_await detail::ring_write_awaiter(s, buf))
            co_return std::move(*r);
    }
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::write);
        // MSG_NOSIGNAL: a peer that went away is EPIPE, not a process-killing SIGPIPE.
        ssize_t n = ::send(s.fd(), buf.data(), buf.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = ::write(s.fd(), buf.data(), buf.size());
        if (n >= 0) {
            // Likewise a short send filled the send buffer (TCP takes all it has room for).
            s.clear_ready_if_short(io_direction::write, tick, static_cast<std::size_t>(n),
                                   buf.size());
            co_return static_cast<std::size_t>(n);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            s.clear_ready(io_direction::write, tick);
        else if (errno != EINTR)
            co_return detail::last_error();
    }
}

rt::task<io_result<void>> read_exact(const detail::io_source& s, std::span<std::byte> buf) {
    while (!buf.empty()) {
        auto n = co_await read_some(s, buf);
        if (!n)
            co_return unexpected(n.error());
        if (*n == 0)
            co_return detail::make_error(ENODATA);
        buf = buf.subspan(*n);
    }
    co_return io_result<void>{};
}

rt::task<io_result<void>> write_all(const detail::io_source& s, std::span<const std::byte> buf) {
    while (!buf.empty()) {
        auto n = co_await write_some(s, buf);
        if (!n)
            co_return unexpected(n.error());
        buf = buf.subspan(*n);
    }
    co_return io_result<void>{};
}

} // namespace rt::io

namespace rt::detail {

io_result<int> open_socket(int family, int type) noexcept {
    int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return last_error();
    return fd;
}

rt::task<io_result<std::pair<int, net::socket_address>>> accept_some(const io_source& s) {
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::read);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        int fd =
            ::accept4(s.fd(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            co_return std::pair{
                fd, net::socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len)};
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            s.clear_ready(io_direction::read, tick);
        else if (errno != EINTR && errno != ECONNABORTED)
            co_return last_error();
    }
}

rt::task<io_result<io_source>> connect_to(int fd, net::socket_address to) {
    // Registered only after connect(): an unconnected TCP socket polls as hung up, which under
    // edge triggering would read as "connect finished" before it started.
    if (::connect(fd, to.native(), to.native_size()) != 0 && errno != EINPROGRESS) {
        auto err = last_error();
        ::close(fd);
        co_return err;
    }
    auto src = io_source::adopt(fd);
    if (!src)
        co_return unexpected(src.error());
    for (;;) {
        std::uint64_t tick = co_await src->ready(io_direction::write);
        int err = 0;
        socklen_t len = sizeof err;
        if (::getsockopt(src->fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            co_return last_error();
        if (err != 0)
            co_return make_error(err);
        sockaddr_storage ss{};
        socklen_t sl = sizeof ss;
        if (::getpeername(src->fd(), reinterpret_cast<sockaddr*>(&ss), &sl) == 0)
            co_return std::move(*src);
        if (errno != ENOTCONN)
            co_return last_error();
        src->clear_ready(io_direction::write, tick);
    }
}

io_result<net::socket_address> local_address(int fd) noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return last_error();
    return net::socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len);
}

io_result<net::socket_address> peer_address(int fd) noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return last_error();
    return net::socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len);
}

rt::task<io_result<std::size_t>> send_to(const io_source& s, std::span<const std::byte> buf,
                                         net::socket_address to) {
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::write);
        ssize_t n = to.family() == AF_UNSPEC
                        ? ::send(s.fd(), buf.data(), buf.size(), MSG_NOSIGNAL)
                        : ::sendto(s.fd(), buf.data(), buf.size(), MSG_NOSIGNAL, to.native(),
                                   to.native_size());
        if (n >= 0)
            co_return static_cast<std::size_t>(n);
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            s.clear_ready(io_direction::write, tick);
        else if (errno != EINTR)
            co_return last_error();
    }
}

rt::task<io_result<std::pair<std::size_t, net::socket_address>>>
recv_from(const io_source& s, std::span<std::byte> buf) {
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::read);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ssize_t n =
            ::recvfrom(s.fd(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
        if (n >= 0)
            co_return std::pair{
                static_cast<std::size_t>(n),
                net::socket_address::from_native(reinterpret_cast<sockaddr*>(&ss), len)};
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            s.clear_ready(io_direction::read, tick);
        else if (errno != EINTR)
            co_return last_error();
    }
}

} // namespace rt::detail
