// rt::net::socket_address: an IPv4, IPv6 or Unix-domain socket address, by value.
//
//     auto a = rt::net::socket_address::parse("127.0.0.1:8080");   // or "[::1]:8080"
//     if (a) std::cout << a->to_string() << " port " << a->port() << '\n';
//
// parse() accepts numeric literals only (no names: use rt::net::lookup_host for those) and gives
// EINVAL for anything else. to_string() prints "ip:port", "[v6]:port", or a Unix socket's path.
#pragma once

#include "rt/io/io_result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace rt::net {

class socket_address {
public:
    /// An empty address (no family); what unnamed Unix sockets report.
    socket_address() noexcept;

    /// "a.b.c.d:port" or "[v6]:port" (a bare "v6:port" is not accepted: the colons are ambiguous).
    static io_result<socket_address> parse(std::string_view text);
    /// A Unix-domain address; ENAMETOOLONG when the path does not fit.
    static io_result<socket_address> unix_path(std::string_view path);
    /// Copies what the kernel returned (accept, getsockname, recvfrom, getaddrinfo).
    static socket_address from_native(const sockaddr* sa, socklen_t len) noexcept;

    bool is_ipv4() const noexcept { return family() == AF_INET; }
    bool is_ipv6() const noexcept { return family() == AF_INET6; }
    bool is_unix() const noexcept { return family() == AF_UNIX; }
    int family() const noexcept { return storage_.ss_family; }

    /// The port in host byte order; 0 for Unix addresses.
    std::uint16_t port() const noexcept;
    void set_port(std::uint16_t port) noexcept;
    /// The IP address alone ("127.0.0.1", "::1"), or the Unix path.
    std::string ip() const;
    std::string to_string() const;

    const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    socklen_t native_size() const noexcept { return len_; }

    friend bool operator==(const socket_address& a, const socket_address& b) noexcept;

private:
    sockaddr_storage storage_;
    socklen_t len_ = 0;
};

} // namespace rt::net
