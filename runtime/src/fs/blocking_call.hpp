// Runs a blocking file-system call on the blocking pool and gives its io_result back to the
// awaiting task. The callable must own everything it touches: when the awaiting task is
// cancelled the call still runs to its end, and only its result is dropped.
#pragma once

#include "rt/fs/metadata.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/spawn.hpp"

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

inline file_metadata to_metadata(const struct stat& st) noexcept {
    using ft = file_metadata::file_type;
    ft t = S_ISREG(st.st_mode)   ? ft::regular
           : S_ISDIR(st.st_mode) ? ft::directory
           : S_ISLNK(st.st_mode) ? ft::symlink
                                 : ft::other;
    auto since_epoch =
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    return file_metadata(
        t, static_cast<std::uint64_t>(st.st_size), st.st_mode & 07777,
        std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)));
}

} // namespace rt::fs::detail
