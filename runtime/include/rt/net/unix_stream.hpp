// rt::net::unix_stream: a connected Unix-domain stream socket; the same operations and
// cancel-safety as rt::net::tcp_stream (see there), addressed by a filesystem path.
//
//     auto s = co_await rt::net::unix_stream::connect("/run/app.sock");
//     co_await s->write_all("hello");
//
// pair() makes two connected streams (socketpair), handy for tests and for talking to a child.
#pragma once

#include "rt/detail/io_source.hpp"
#include "rt/io/io_result.hpp"
#include "rt/io/stream_ops.hpp"
#include "rt/net/shutdown.hpp"
#include "rt/net/socket_address.hpp"
#include "rt/task/task.hpp"

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace rt::net {

class unix_stream {
public:
    unix_stream() noexcept = default;
    explicit unix_stream(detail::io_source src) noexcept : src_(std::move(src)) {}

    [[nodiscard("co_await it")]] static rt::task<io_result<unix_stream>>
    connect(std::string_view path);
    /// Two streams connected to each other (immediate).
    static io_result<std::pair<unix_stream, unix_stream>> pair();

    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> read(std::span<std::byte> buf) {
        return io::read_some(src_, buf);
    }
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>>
    write(std::span<const std::byte> buf) {
        return io::write_some(src_, buf);
    }
    [[nodiscard("co_await it")]] rt::task<io_result<void>> read_exact(std::span<std::byte> buf) {
        return io::read_exact(src_, buf);
    }
    [[nodiscard("co_await it")]] rt::task<io_result<void>>
    write_all(std::span<const std::byte> buf) {
        return io::write_all(src_, buf);
    }
    [[nodiscard("co_await it")]] rt::task<io_result<void>> write_all(std::string_view text) {
        return io::write_all(src_, std::as_bytes(std::span(text.data(), text.size())));
    }

    io_result<void> shutdown(shutdown_mode how = shutdown_mode::write) noexcept;
    io_result<socket_address> peer_addr() const noexcept;
    io_result<socket_address> local_addr() const noexcept;

    const detail::io_source& source() const noexcept { return src_; }
    bool valid() const noexcept { return src_.valid(); }

private:
    detail::io_source src_;
};

} // namespace rt::net
