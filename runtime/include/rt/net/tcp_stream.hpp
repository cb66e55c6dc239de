// rt::net::tcp_stream: a connected TCP socket, read and written from tasks.
//
//     auto s = co_await rt::net::tcp_stream::connect("127.0.0.1:8080");   // or "localhost:8080"
//     if (!s) co_return;
//     co_await s->write_all("ping\n");
//     std::array<std::byte, 64> buf;
//     auto n = co_await s->read(buf);           // 0 means the peer closed its side
//
// Every operation is awaited except the option setters and the address getters. Cancel-safety
// (dropping the operation by abort, rt::timeout or select before it completes): read is
// cancel-safe (on io_uring its RECV is cancelled and bytes it still got are returned by the
// next read); write is cancel-safe on epoll, but on io_uring a dropped write may have sent a
// prefix of its buffer (the next write waits for it, nothing interleaves); read_exact and
// write_all are not (a part may have moved); connect closes the half-made socket. One task
// reads while another writes is fine; two concurrent reads (or writes) on one stream
// interleave unpredictably.
// A stream must be destroyed before its runtime; destroying it closes the socket.
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

namespace rt::net {

class tcp_stream {
public:
    tcp_stream() noexcept = default;
    /// Wraps an accepted or connected socket (taken over).
    explicit tcp_stream(detail::io_source src) noexcept : src_(std::move(src)) {
        src_.set_drains_on_short_read();
    }

    /// Connects to an address literal ("127.0.0.1:80", "[::1]:80") or "host:port", which is
    /// resolved with lookup_host and tried address by address; the last error if none answers.
    [[nodiscard("co_await it")]] static rt::task<io_result<tcp_stream>>
    connect(std::string_view address);
    [[nodiscard("co_await it")]] static rt::task<io_result<tcp_stream>>
    connect(socket_address address);

    /// Reads what is available, at most buf.size() bytes; 0 at end of stream. Cancel-safe.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> read(std::span<std::byte> buf) {
        return io::read_some(src_, buf);
    }
    /// Writes some of `buf` (at least one byte unless it is empty). Cancel-safe on epoll only.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>>
    write(std::span<const std::byte> buf) {
        return io::write_some(src_, buf);
    }
    /// Fills `buf`; ENODATA when the stream ends first. Not cancel-safe.
    [[nodiscard("co_await it")]] rt::task<io_result<void>> read_exact(std::span<std::byte> buf) {
        return io::read_exact(src_, buf);
    }
    /// Writes all of `buf` (or of `text`). Not cancel-safe.
    [[nodiscard("co_await it")]] rt::task<io_result<void>>
    write_all(std::span<const std::byte> buf) {
        return io::write_all(src_, buf);
    }
    [[nodiscard("co_await it")]] rt::task<io_result<void>> write_all(std::string_view text) {
        return io::write_all(src_, std::as_bytes(std::span(text.data(), text.size())));
    }

    /// Shuts down one or both directions at once (not awaited); shutdown_mode::write sends FIN
    /// so the peer reads end of stream while this side can still read.
    io_result<void> shutdown(shutdown_mode how = shutdown_mode::write) noexcept;
    /// TCP_NODELAY: send small writes at once instead of coalescing them.
    io_result<void> set_nodelay(bool on) noexcept;
    io_result<bool> nodelay() const noexcept;
    io_result<socket_address> peer_addr() const noexcept;
    io_result<socket_address> local_addr() const noexcept;

    /// The underlying registered descriptor (for generic helpers and socket options).
    const detail::io_source& source() const noexcept { return src_; }
    bool valid() const noexcept { return src_.valid(); }

private:
    detail::io_source src_;
};

} // namespace rt::net
