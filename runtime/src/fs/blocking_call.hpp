// Runs a blocking file-system call on the blocking pool and gives its io_result back to the
// awaiting task. The callable must own everything it touches: when the awaiting task is
// cancelled the call still runs to its end, and only its result is dropped.
#pragma once

#include "rt/fs/metadata.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/spawn.hpp"

#include <chrono>
#include <cstdint>
#include <sys/stat.h>
#include <type_traits>

namespace rt::fs::detail {

template <class F, class R = std::invoke_result_t<F&>>
rt::task<R> blocking_call(F f, const char* name) {
    auto handle = rt::spawn_blocking(std::move(f), {.name = name});
    auto r = co_await handle;
    if (r)
        co_return std::move(*r);
    // Cancelled (the runtime is shutting down) or the call threw (out of memory).
    co_return rt::detail::make_error(r.error().is_cancelled() ? ECANCELED : EIO);
}

/// What stat(2) and statx(2) report, as file_metadata.
inline file_metadata make_metadata(std::uint32_t mode, std::uint64_t size, std::int64_t mtime_s,
                                   std::int64_t mtime_ns) noexcept {
    using ft = file_metadata::file_type;
    ft t = S_ISREG(mode)   ? ft::regular
           : S_ISDIR(mode) ? ft::directory
           : S_ISLNK(mode) ? ft::symlink
                           : ft::other;
    auto since_epoch = std::chrono::seconds(mtime_s) + std::chrono::nanoseconds(mtime_ns);
    return file_metadata(
        t, size, mode & 07777,
        std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)));
}

inline file_metadata to_metadata(const struct stat& st) noexcept {
    return make_metadata(st.st_mode, static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec,
                         st.st_mtim.tv_nsec);
}

} // namespace rt::fs::detail
