#include "rt/net/lookup_host.hpp"
#include "rt/net/tcp_listener.hpp"
#include "rt/net/tcp_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rt::net {

namespace detail_tcp {

int to_how(shutdown_mode m) noexcept {
    return m == shutdown_mode::read ? SHUT_RD : m == shutdown_mode::write ? SHUT_WR : SHUT_RDWR;
}

rt::task<io_result<tcp_stream>> connect_one(socket_address to) {
    auto fd = detail::open_socket(to.family(), SOCK_STREAM);
    if (!fd)
        co_return unexpected(fd.error());
    auto src = co_await detail::connect_to(*fd, to);
    if (!src)
        co_return unexpected(src.error());
    co_return tcp_stream(std::move(*src));
}

rt::task<io_result<tcp_stream>> connect_any(std::string address) {
    auto addrs = co_await lookup_host(address);
    if (!addrs)
        co_return unexpected(addrs.error());
    std::error_code last = std::make_error_code(std::errc::host_unreachable);
    for (const socket_address& a : *addrs) {
        auto s = co_await connect_one(a);
        if (s)
            co_return std::move(*s);
        last = s.error();
    }
    co_return unexpected(last);
}

} // namespace detail_tcp

rt::task<io_result<tcp_stream>> tcp_stream::connect(std::string_view address) {
    if (auto lit = socket_address::parse(address))
        return detail_tcp::connect_one(*lit);
    return detail_tcp::connect_any(std::string(address));
}

rt::task<io_result<tcp_stream>> tcp_stream::connect(socket_address address) {
    return detail_tcp::connect_one(address);
}

io_result<void> tcp_stream::shutdown(shutdown_mode how) noexcept {
    if (::shutdown(src_.fd(), detail_tcp::to_how(how)) != 0)
        return detail::last_error();
    return {};
}

io_result<void> tcp_stream::set_nodelay(bool on) noexcept {
    int v = on ? 1 : 0;
    if (::setsockopt(src_.fd(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) != 0)
        return detail::last_error();
    return {};
}

io_result<bool> tcp_stream::nodelay() const noexcept {
    int v = 0;
    socklen_t len = sizeof v;
    if (::getsockopt(src_.fd(), IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0)
        return detail::last_error();
    return v != 0;
}

io_result<socket_address> tcp_stream::peer_addr() const noexcept {
    return detail::peer_address(src_.fd());
}

io_result<socket_address> tcp_stream::local_addr() const noexcept {
    return detail::local_address(src_.fd());
}

io_result<tcp_listener> tcp_listener::bind(std::string_view address) {
    auto a = socket_address::parse(address);
    if (!a)
        return unexpected(a.error());
    return bind(*a);
}

io_result<tcp_listener> tcp_listener::bind(const socket_address& address) {
    auto fd = detail::open_socket(address.family(), SOCK_STREAM);
    if (!fd)
        return unexpected(fd.error());
    int one = 1;
    ::setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(*fd, address.native(), address.native_size()) != 0 || ::listen(*fd, 1024) != 0) {
        auto err = detail::last_error();
        ::close(*fd);
        return err;
    }
    auto src = detail::io_source::adopt(*fd);
    if (!src)
        return unexpected(src.error());
    tcp_listener l;
    l.src_ = std::move(*src);
    return l;
}

namespace {
rt::task<io_result<std::pair<tcp_stream, socket_address>>>
accept_tcp(const detail::io_source& src) {
    auto r = co_await detail::accept_some(src);
    if (!r)
        co_return unexpected(r.error());
    auto s = detail::io_source::adopt(r->first);
    if (!s)
        co_return unexpected(s.error());
    co_return std::pair{tcp_stream(std::move(*s)), r->second};
}
} // namespace

rt::task<io_result<std::pair<tcp_stream, socket_address>>> tcp_listener::accept() {
    return accept_tcp(src_);
}

io_result<socket_address> tcp_listener::local_addr() const noexcept {
    return detail::local_address(src_.fd());
}

} // namespace rt::net
