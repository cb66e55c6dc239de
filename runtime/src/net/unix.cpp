#include "rt/net/unix_listener.hpp"
#include "rt/net/unix_stream.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace rt::net {

namespace {

rt::task<io_result<unix_stream>> connect_unix(std::string path) {
    auto addr = socket_address::unix_path(path);
    if (!addr)
        co_return unexpected(addr.error());
    auto fd = detail::open_socket(AF_UNIX, SOCK_STREAM);
    if (!fd)
        co_return unexpected(fd.error());
    auto src = co_await detail::connect_to(*fd, *addr);
    if (!src)
        co_return unexpected(src.error());
    co_return unix_stream(std::move(*src));
}

rt::task<io_result<std::pair<unix_stream, socket_address>>>
accept_unix(const detail::io_source& src) {
    auto r = co_await detail::accept_some(src);
    if (!r)
        co_return unexpected(r.error());
    auto s = detail::io_source::adopt(r->first);
    if (!s)
        co_return unexpected(s.error());
    co_return std::pair{unix_stream(std::move(*s)), r->second};
}

} // namespace

rt::task<io_result<unix_stream>> unix_stream::connect(std::string_view path) {
    return connect_unix(std::string(path));
}

io_result<std::pair<unix_stream, unix_stream>> unix_stream::pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return detail::last_error();
    auto a = detail::io_source::adopt(fds[0]);
    if (!a) {
        ::close(fds[1]);
        return unexpected(a.error());
    }
    auto b = detail::io_source::adopt(fds[1]);
    if (!b)
        return unexpected(b.error());
    return std::pair{unix_stream(std::move(*a)), unix_stream(std::move(*b))};
}

io_result<void> unix_stream::shutdown(shutdown_mode how) noexcept {
    int h = how == shutdown_mode::read    ? SHUT_RD
            : how == shutdown_mode::write ? SHUT_WR
                                          : SHUT_RDWR;
    if (::shutdown(src_.fd(), h) != 0)
        return detail::last_error();
    return {};
}

io_result<socket_address> unix_stream::peer_addr() const noexcept {
    return detail::peer_address(src_.fd());
}

io_result<socket_address> unix_stream::local_addr() const noexcept {
    return detail::local_address(src_.fd());
}

io_result<unix_listener> unix_listener::bind(std::string_view path) {
    auto addr = socket_address::unix_path(path);
    if (!addr)
        return unexpected(addr.error());
    auto fd = detail::open_socket(AF_UNIX, SOCK_STREAM);
    if (!fd)
        return unexpected(fd.error());
    if (::bind(*fd, addr->native(), addr->native_size()) != 0 || ::listen(*fd, 1024) != 0) {
        auto err = detail::last_error();
        ::close(*fd);
        return err;
    }
    auto src = detail::io_source::adopt(*fd);
    if (!src)
        return unexpected(src.error());
    unix_listener l;
    l.src_ = std::move(*src);
    return l;
}

rt::task<io_result<std::pair<unix_stream, socket_address>>> unix_listener::accept() {
    return accept_unix(src_);
}

io_result<socket_address> unix_listener::local_addr() const noexcept {
    return detail::local_address(src_.fd());
}

} // namespace rt::net
