// rt::net::udp_socket: datagrams to and from any address, or to one connected peer.
//
//     auto s = rt::net::udp_socket::bind("127.0.0.1:0");
//     co_await s->send_to(bytes, *rt::net::socket_address::parse("127.0.0.1:9000"));
//     auto [n, from] = *co_await s->recv_from(buf);     // a datagram longer than buf is cut
//
// bind() and connect() are immediate (connect only fixes the peer; UDP sends no packet).
// send_to, recv_from, send and recv are awaited and cancel-safe: a dropped call moved no datagram.
#pragma once

#include "rt/detail/io_source.hpp"
#include "rt/io/io_result.hpp"
#include "rt/io/stream_ops.hpp"
#include "rt/net/socket_address.hpp"
#include "rt/task/task.hpp"

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace rt::net {

class udp_socket {
public:
    udp_socket() noexcept = default;

    static io_result<udp_socket> bind(std::string_view address);
    static io_result<udp_socket> bind(const socket_address& address);
    /// Sets the default peer for send/recv and filters datagrams from others.
    io_result<void> connect(std::string_view address) noexcept;
    io_result<void> connect(const socket_address& address) noexcept;

    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>>
    send_to(std::span<const std::byte> buf, socket_address to) {
        return detail::send_to(src_, buf, to);
    }
    [[nodiscard("co_await it")]] rt::task<io_result<std::pair<std::size_t, socket_address>>>
    recv_from(std::span<std::byte> buf) {
        return detail::recv_from(src_, buf);
    }
    /// To the connected peer.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>>
    send(std::span<const std::byte> buf) {
        return detail::send_to(src_, buf, socket_address());
    }
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> recv(std::span<std::byte> buf) {
        return io::read_some(src_, buf);
    }

    io_result<socket_address> local_addr() const noexcept;
    io_result<socket_address> peer_addr() const noexcept;

    const detail::io_source& source() const noexcept { return src_; }

private:
    detail::io_source src_;
};

} // namespace rt::net
