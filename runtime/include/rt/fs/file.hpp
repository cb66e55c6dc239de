// rt::fs::file: an open file, read and written from tasks; the calls run on the blocking pool
// (regular files have no readiness to wait for).
//
//     auto f = co_await rt::fs::file::open("/etc/fstab");
//     std::string contents;
//     co_await f->read_to_string(contents);
//
// open() is read-only; create() is write-only, creating or truncating (mode 0666 & ~umask).
// Each operation copies through a buffer of its own, so the caller's memory is never touched
// after a cancelled call returns. Not cancel-safe: a dropped read or write still runs to its end
// on the blocking pool and moves the file position; only its result is lost. Reads and writes
// use the file's position (one at a time per file gives the order you would expect).
// Moving a file is fine while nothing is awaiting on it.
#pragma once

#include "rt/fs/metadata.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/task.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace rt::fs {

namespace detail {
/// Owns the descriptor; shared with blocking calls in flight so a file closed meanwhile does not
/// close (and let the kernel reuse) a descriptor a blocking thread is still using.
struct file_handle {
    explicit file_handle(int f) noexcept : fd(f) {}
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;
    ~file_handle();
    int fd;
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
