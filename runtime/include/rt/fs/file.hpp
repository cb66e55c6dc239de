// rt::fs::file: an open file, read and written from tasks. On the io_uring backend every call
// goes through the ring: open/create (OPENAT), read/write (READ/WRITE at the file's position,
// kept in the file object), sync_all (FSYNC), metadata (STATX). On epoll they run on the
// blocking pool (regular files have no readiness to wait for).
//
//     auto f = co_await rt::fs::file::open("/etc/fstab");
//     std::string contents;
//     co_await f->read_to_string(contents);
//
// open() is read-only; create() is write-only, creating or truncating (mode 0666 & ~umask).
// Each operation copies through a buffer of its own, so the caller's memory is never touched
// after a cancelled call returns. Cancel-safety (a read or write dropped by abort, timeout or
// select): on io_uring the next operation on the file first waits for the dropped one; a
// dropped read then counts for nothing (the next read returns the same bytes), a dropped write
// still happens and moves the position. On the blocking pool a dropped call runs to its end and
// moves the position either way; only its result is lost. A dropped open on io_uring is
// cancelled, and a file it opened anyway is closed: it never leaks a descriptor. One operation
// at a time per file.
// Moving a file is fine while nothing is awaiting on it.
#pragma once

#include "rt/fs/metadata.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/task.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace rt::fs {

namespace detail {
struct ring_file_op;

/// Owns the descriptor; shared with blocking calls in flight so a file closed meanwhile does not
/// close (and let the kernel reuse) a descriptor a blocking thread is still using.
struct file_handle {
    explicit file_handle(int f) noexcept : fd(f) {}
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;
    ~file_handle();
    int fd;
    // io_uring only, touched by the task operating on the file: the position, and an operation
    // whose await was dropped before it completed.
    std::uint64_t pos = 0;
    std::shared_ptr<ring_file_op> pending;
    bool stream = false; // not seekable (a pipe, a terminal): no explicit offsets
};
} // namespace detail

class file {
public:
    file() noexcept = default;

    [[nodiscard("co_await it")]] static rt::task<io_result<file>> open(std::filesystem::path path);
    [[nodiscard("co_await it")]] static rt::task<io_result<file>>
    create(std::filesystem::path path);

    /// Reads up to buf.size() bytes at the file position; 0 at end of file.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> read(std::span<std::byte> buf);
    /// Writes some of `buf` at the file position.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>>
    write(std::span<const std::byte> buf);
    [[nodiscard("co_await it")]] rt::task<io_result<void>>
    write_all(std::span<const std::byte> buf);
    [[nodiscard("co_await it")]] rt::task<io_result<void>> write_all(std::string_view text);
    /// Appends the rest of the file to `out`; gives the number of bytes appended.
    [[nodiscard("co_await it")]] rt::task<io_result<std::size_t>> read_to_string(std::string& out);
    /// fsync(2): data and metadata reach the device.
    [[nodiscard("co_await it")]] rt::task<io_result<void>> sync_all();
    [[nodiscard("co_await it")]] rt::task<io_result<file_metadata>> metadata();

    bool valid() const noexcept { return handle_ != nullptr; }

private:
    explicit file(std::shared_ptr<detail::file_handle> h) noexcept : handle_(std::move(h)) {}
    static rt::task<io_result<file>> open_flags(std::filesystem::path path, int flags);

    std::shared_ptr<detail::file_handle> handle_;
};

} // namespace rt::fs
