// File reads and writes through the io_uring ring (when the runtime's backend is io_uring).
//
// Each operation is a `ring_file_op` that owns its buffer and is shared by the awaiting task and
// the ring (`self` holds the ring's reference until the completion), so a dropped await never
// leaves the kernel writing into freed memory. The file's position lives in its file_handle,
// read and written only by the task operating on the file (one operation at a time per file).
// A dropped await cancels its operation (a read from a pipe may otherwise never end) and leaves
// it in `file_handle::pending`; the next operation on the file first waits for its completion
// ("settles" it): a dropped write then moves the position by what it wrote, a dropped read is
// discarded and leaves the position where it was, so on a regular file the next read returns
// the same bytes.
//
// Path operations (open, statx, unlink) and fsync go through the ring too, as one `ring_file_op`
// each that owns the path and the statx buffer until the completion. A dropped open is cancelled,
// and a descriptor it still produced is closed (by the completion, or by the dropped await when
// the completion came first), so cancelling an open never leaks a file.
#pragma once

#include "io/io_driver.hpp"
#include "rt/fs/file.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace rt::fs::detail {

struct ring_file_op final : rt::detail::ring_completion {
    rt::detail::mutex mu;
    rt::detail::io_driver* driver = nullptr;
    bool write = false;
    bool cancelled = false;                // under mu
    bool done = false;                     // under mu
    int res = 0;                           // under mu, once done
    rt::detail::waiter* waiting = nullptr; // under mu
    std::unique_ptr<std::byte[]> buf;      // the kernel's until done
    std::size_t len = 0;
    std::string path;                   // path operations: the kernel's until done
    struct statx stx {};                // statx: the kernel's until done
    bool opens = false;                 // a result >= 0 is a descriptor someone must close
    bool taken = false;                 // under mu: an await took the result
    std::shared_ptr<ring_file_op> self; // the ring's reference while in flight

    void complete(int r, std::vector<rt::detail::task_header*>& woken) override;
};

/// The current runtime's driver when it is completion-based, else null (use the blocking pool).
rt::detail::io_driver* ring_driver();

/// Reads up to buf.size() bytes at the handle's position and advances it.
rt::task<io_result<std::size_t>> ring_read(std::shared_ptr<file_handle> h,
                                           std::span<std::byte> buf);
/// Writes a prefix of `buf` at the handle's position and advances it.
rt::task<io_result<std::size_t>> ring_write(std::shared_ptr<file_handle> h,
                                            std::span<const std::byte> buf);

/// open(2) with O_CLOEXEC added: the new descriptor.
rt::task<io_result<int>> ring_open(std::string path, int flags, unsigned mode);
/// stat(2) of `path`, or (empty path) fstat(2) of the handle's descriptor.
rt::task<io_result<file_metadata>> ring_metadata(std::shared_ptr<file_handle> h, std::string path);
/// unlink(2).
rt::task<io_result<void>> ring_unlink(std::string path);
/// fsync(2) of the handle's descriptor.
rt::task<io_result<void>> ring_fsync(std::shared_ptr<file_handle> h);

} // namespace rt::fs::detail
