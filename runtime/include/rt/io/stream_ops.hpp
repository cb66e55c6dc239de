// The readiness loops behind every stream and datagram operation of rt::net (one set, shared by
// TCP and Unix sockets). Users call the socket types' methods instead; these are public only so
// generic code (rt::io::copy, buffered_reader) and other socket-like types can reuse them.
//
// On io_uring, read_some and write_some of a socket are completion-based (submitted to the ring
// when the non-blocking call finds nothing to do); everything else, and everything on epoll, is
// a readiness loop.
//
// Cancel-safety, as Tokio documents it (an operation destroyed by abort, timeout or select before
// it completed):
//   accept, recv, recv_from, send, send_to, and read/write on epoll   cancel-safe: the system
//       call runs only after the task resumed from a readiness wake, so a dropped call
//       transferred nothing.
//   read on io_uring   cancel-safe: the RECV is cancelled and the next read waits for that;
//       bytes it still received are kept by the stream and returned first.
//   write on io_uring   not cancel-safe: the SEND is cancelled, but a prefix of the buffer may
//       have gone out. The next write waits for the cancellation, so nothing interleaves.
//   read_exact, write_all   not cancel-safe: bytes already moved are not reported; the stream's
//       position within the message is unknown afterwards.
//   connect   dropping it closes the half-open socket.
#pragma once

#include "rt/detail/io_source.hpp"
#include "rt/io/io_result.hpp"
#include "rt/net/socket_address.hpp"
#include "rt/task/task.hpp"

#include <cstddef>
#include <span>
#include <utility>

namespace rt::io {

/// read(2) once the descriptor is readable (io_uring: or a RECV); 0 at end of stream.
rt::task<io_result<std::size_t>> read_some(const detail::io_source& s, std::span<std::byte> buf);
/// send(2) (or write(2) for non-sockets) once writable (io_uring: or a SEND); may write less
/// than asked.
rt::task<io_result<std::size_t>> write_some(const detail::io_source& s,
                                            std::span<const std::byte> buf);
/// Fills `buf` completely; ENODATA ("no data available") when the stream ends first.
rt::task<io_result<void>> read_exact(const detail::io_source& s, std::span<std::byte> buf);
/// Writes all of `buf`, looping over partial writes.
rt::task<io_result<void>> write_all(const detail::io_source& s, std::span<const std::byte> buf);

} // namespace rt::io

namespace rt::detail {

/// A new non-blocking, close-on-exec socket.
io_result<int> open_socket(int family, int type) noexcept;
/// accept4 once readable: the new descriptor (non-blocking) and the peer's address.
rt::task<io_result<std::pair<int, net::socket_address>>> accept_some(const io_source& s);
/// Non-blocking connect of `fd` (taken over, closed on failure), registration, then waits for
/// writability and reads SO_ERROR.
rt::task<io_result<io_source>> connect_to(int fd, net::socket_address to);
/// getsockname / getpeername.
io_result<net::socket_address> local_address(int fd) noexcept;
io_result<net::socket_address> peer_address(int fd) noexcept;

rt::task<io_result<std::size_t>> send_to(const io_source& s, std::span<const std::byte> buf,
                                         net::socket_address to);
rt::task<io_result<std::pair<std::size_t, net::socket_address>>>
recv_from(const io_source& s, std::span<std::byte> buf);

} // namespace rt::detail
