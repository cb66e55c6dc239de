#include "rt/net/udp_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace rt::net {

io_result<udp_socket> udp_socket::bind(std::string_view address) {
    auto a = socket_address::parse(address);
    if (!a)
        return unexpected(a.error());
    return bind(*a);
}

io_result<udp_socket> udp_socket::bind(const socket_address& address) {
    auto fd = detail::open_socket(address.family(), SOCK_DGRAM);
    if (!fd)
        return unexpected(fd.error());
    if (::bind(*fd, address.native(), address.native_size()) != 0) {
        auto err = detail::last_error();
        ::close(*fd);
        return err;
    }
    auto src = detail::io_source::adopt(*fd);
    if (!src)
        return unexpected(src.error());
    udp_socket s;
    s.src_ = std::move(*src);
    return s;
}

io_result<void> udp_socket::connect(std::string_view address) noexcept {
    auto a = socket_address::parse(address);
    if (!a)
        return unexpected(a.error());
    return connect(*a);
}

io_result<void> udp_socket::connect(const socket_address& address) noexcept {
    if (::connect(src_.fd(), address.native(), address.native_size()) != 0)
        return detail::last_error();
    return {};
}

io_result<socket_address> udp_socket::local_addr() const noexcept {
    return detail::local_address(src_.fd());
}

io_result<socket_address> udp_socket::peer_addr() const noexcept {
    return detail::peer_address(src_.fd());
}

} // namespace rt::net
