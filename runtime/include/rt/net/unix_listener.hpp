// rt::net::unix_listener: a listening Unix-domain stream socket bound to a filesystem path.
//
//     auto l = rt::net::unix_listener::bind("/tmp/app.sock");
//     auto c = co_await l->accept();            // {unix_stream, peer address (usually unnamed)}
//
// bind() is immediate and fails with EADDRINUSE when the path exists (remove a stale socket
// file first; the listener does not unlink its path when destroyed). accept() is cancel-safe.
#pragma once

#include "rt/detail/io_source.hpp"
#include "rt/io/io_result.hpp"
#include "rt/net/socket_address.hpp"
#include "rt/net/unix_stream.hpp"
#include "rt/task/task.hpp"

#include <string_view>
#include <utility>

namespace rt::net {

class unix_listener {
public:
    unix_listener() noexcept = default;

    static io_result<unix_listener> bind(std::string_view path);

    [[nodiscard("co_await it")]] rt::task<io_result<std::pair<unix_stream, socket_address>>>
    accept();
    io_result<socket_address> local_addr() const noexcept;

    const detail::io_source& source() const noexcept { return src_; }

private:
    detail::io_source src_;
};

} // namespace rt::net
