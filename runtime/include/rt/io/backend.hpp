// rt::io_backend: which kernel interface the reactor thread waits on, chosen when the runtime is
// built:
//
//     auto rt = rt::runtime::builder().io_backend(rt::io_backend::io_uring).build();
//
// epoll (the default): edge-triggered readiness. io_uring: readiness through one multishot
// IORING_OP_POLL_ADD per descriptor. In both, the reads and writes themselves are non-blocking
// system calls made by the awaiting task once its descriptor is ready, and files go through the
// blocking pool; completion-based I/O (reads and writes submitted to the ring) is not done yet.
// When no ring can be set up, the runtime falls back to epoll and says so through the builder's
// on_log callback; runtime::io_backend() tells which one is running.
#pragma once

#include <string_view>

namespace rt {

enum class io_backend { epoll, io_uring };

constexpr std::string_view to_string(io_backend b) noexcept {
    return b == io_backend::epoll ? "epoll" : "io_uring";
}

} // namespace rt
