// The readiness loops (rt/detail/io_source.hpp describes the protocol): wait for readiness, try
// the non-blocking call, and on EAGAIN clear the readiness seen at `tick` and wait again.
#include "rt/io/stream_ops.hpp"

#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rt::io {

using detail::io_direction;

rt::task<io_result<std::size_t>> read_some(const detail::io_source& s, std::span<std::byte> buf) {
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::read);
        ssize_t n = ::read(s.fd(), buf.data(), buf.size());
        if (n >= 0)
            co_return static_cast<std::size_t>(n);
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            s.clear_ready(io_direction::read, tick);
        else if (errno != EINTR)
            co_return detail::last_error();
    }
}

rt::task<io_result<std::size_t>> write_some(const detail::io_source& s,
                                            std::span<const std::byte> buf) {
    for (;;) {
        std::uint64_t tick = co_await s.ready(io_direction::write);
        // MSG_NOSIGNAL: a peer that went away is EPIPE, not a process-killing SIGPIPE.
        ssize_t n = ::send(s.fd(), buf.data(), buf.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = ::write(s.fd(), buf.data(), buf.size());
        if (n >= 0)
            co_return static_cast<std::size_t>(n);
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
