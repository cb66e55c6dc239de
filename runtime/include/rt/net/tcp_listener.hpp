// rt::net::tcp_listener: a bound, listening TCP socket that hands out connections.
//
//     auto l = rt::net::tcp_listener::bind("127.0.0.1:0");      // port 0: the kernel picks one
//     if (!l) return;
//     std::cout << l->local_addr()->port();
//     for (;;) {
//         auto c = co_await l->accept();                         // {tcp_stream, peer address}
//         if (c) rt::spawn(serve(std::move(c->first)));
//     }
//
// bind() is immediate (address literal only, IPv4 or IPv6; SO_REUSEADDR set; backlog 1024);
// accept() is awaited and cancel-safe: a dropped accept took no connection from the queue.
#pragma once

#include "rt/detail/io_source.hpp"
#include "rt/io/io_result.hpp"
#include "rt/net/socket_address.hpp"
#include "rt/net/tcp_stream.hpp"
#include "rt/task/task.hpp"

#include <string_view>
#include <utility>

namespace rt::net {

class tcp_listener {
public:
    tcp_listener() noexcept = default;

    /// Binds and listens. Call from a runtime thread (the socket joins its reactor).
    static io_result<tcp_listener> bind(std::string_view address);
    static io_result<tcp_listener> bind(const socket_address& address);

    [[nodiscard("co_await it")]] rt::task<io_result<std::pair<tcp_stream, socket_address>>>
    accept();
    io_result<socket_address> local_addr() const noexcept;

    const detail::io_source& source() const noexcept { return src_; }

private:
    detail::io_source src_;
};

} // namespace rt::net
