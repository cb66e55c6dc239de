// rt::io::copy: move everything a reader produces into a writer, until end of stream.
//
//     auto n = co_await rt::io::copy(file, socket);     // io_result<std::uint64_t>: bytes copied
//
// Reads up to 16 KiB at a time and writes each chunk completely before reading more. Both are
// taken by reference and must outlive the await. Not cancel-safe: a chunk read but not yet
// fully written is lost when the copy is dropped.
#pragma once

#include "rt/io/concepts.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/task.hpp"

#include <cstdint>
#include <vector>

namespace rt::io {

template <async_reader R, async_writer W>
[[nodiscard("co_await it")]] rt::task<io_result<std::uint64_t>> copy(R& reader, W& writer) {
    std::vector<std::byte> buf(16 * 1024);
    std::uint64_t total = 0;
    for (;;) {
        auto n = co_await reader.read(std::span<std::byte>(buf));
        if (!n)
            co_return unexpected(n.error());
        if (*n == 0)
            co_return total;
        auto w = co_await writer.write_all(std::span<const std::byte>(buf.data(), *n));
        if (!w)
            co_return unexpected(w.error());
        total += *n;
    }
}

} // namespace rt::io
