// rt::io::buffered_reader<S>: a read buffer in front of a stream, for line-oriented protocols and
// many small reads.
//
//     rt::io::buffered_reader reader(std::move(stream));
//     std::string line;
//     while (*co_await reader.read_line(line) > 0) { handle(line); line.clear(); }
//     co_await reader.get().write_all("bye\n");        // the inner stream is still usable
//
// read_line appends up to and including '\n' (the last line may lack it) and gives the number of
// bytes appended: 0 means end of stream. Cancel-safety: read is cancel-safe (unread bytes stay
// in the buffer or the stream). read_line keeps what it consumed: bytes already appended to
// `line` when it is dropped stay there, so calling it again with the same string continues the
// line; nothing is lost. The buffer is fixed (8 KiB by default); a line may be longer.
#pragma once

#include "rt/io/concepts.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/task.hpp"

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace rt::io {

template <async_reader S>
class buffered_reader {
public:
    explicit buffered_reader(S inner, std::size_t capacity = 8192)
        : inner_(std::move(inner)), buf_(capacity == 0 ? 1 : capacity) {}

    S& get() noexcept { return inner_; }
    const S& get() const noexcept { return inner_; }
    /// Gives up the stream; bytes still buffered are dropped.
    S into_inner() && { return std::move(inner_); }

    /// Bytes read from the stream but not yet taken.
    std::span<const std::byte> buffer() const noexcept {
        return std::span<const std::byte>(buf_.data() + pos_, end_ - pos_);
    }

    /// Buffered bytes first; a read at least as large as the buffer bypasses it.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> read(std::span<std::byte> out) {
        if (pos_ == end_ && out.size() >= buf_.size())
            co_return co_await inner_.read(out);
        if (pos_ == end_) {
            auto n = co_await fill();
            if (!n)
                co_return unexpected(n.error());
        }
        std::size_t k = std::min(out.size(), end_ - pos_);
        if (k != 0)
            std::memcpy(out.data(), buf_.data() + pos_, k);
        pos_ += k;
        co_return k;
    }

    /// Appends through the next '\n' to `line`; the count appended, 0 at end of stream.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> read_line(std::string& line) {
        std::size_t appended = 0;
        for (;;) {
            if (pos_ == end_) {
                auto n = co_await fill();
                if (!n)
                    co_return unexpected(n.error());
                if (*n == 0)
                    co_return appended;
            }
            const std::byte* begin = buf_.data() + pos_;
            const std::byte* stop = buf_.data() + end_;
            const std::byte* nl = std::find(begin, stop, std::byte{'\n'});
            std::size_t k = static_cast<std::size_t>(nl - begin) + (nl != stop ? 1 : 0);
            line.append(reinterpret_cast<const char*>(begin), k);
            pos_ += k;
            appended += k;
            if (nl != stop)
                co_return appended;
        }
    }

private:
    // Refills an empty buffer; gives the bytes read (0 at end of stream).
    rt::task<io_result<std::size_t>> fill() {
        auto n = co_await inner_.read(std::span<std::byte>(buf_));
        if (n) {
            pos_ = 0;
            end_ = *n;
        }
        co_return n;
    }

    S inner_;
    std::vector<std::byte> buf_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
};

} // namespace rt::io
