// rt::io::async_reader / async_writer: what rt::io::copy and rt::io::buffered_reader need from a
// stream. Every rt stream (tcp_stream, unix_stream, fs::file, buffered_reader) satisfies them.
//
//     template <rt::io::async_reader R> rt::task<> drain(R& r);
#pragma once

#include "rt/detail/awaitable_traits.hpp"
#include "rt/io/io_result.hpp"

#include <concepts>
#include <cstddef>
#include <span>

namespace rt::io {

/// `co_await r.read(buf)` gives io_result<size_t>: bytes read, 0 at end of stream.
template <class R>
concept async_reader = requires(R& r, std::span<std::byte> buf) {
    { r.read(buf) } -> rt::awaitable;
    requires std::same_as<detail::await_result_t<decltype(r.read(buf))>, io_result<std::size_t>>;
};

/// `co_await w.write_all(buf)` gives io_result<void>.
template <class W>
concept async_writer = requires(W& w, std::span<const std::byte> buf) {
    { w.write_all(buf) } -> rt::awaitable;
    requires std::same_as<detail::await_result_t<decltype(w.write_all(buf))>, io_result<void>>;
};

} // namespace rt::io
