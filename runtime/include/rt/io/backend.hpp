// rt::io_backend: which kernel interface the reactor thread waits on, chosen when the runtime is
// built:
//
//     auto rt = rt::runtime::builder().io_backend(rt::io_backend::epoll).build();
//
// epoll: edge-triggered readiness; I/O system calls run on the worker that awaits them, and only
// when the kernel said the descriptor is ready. io_uring: reserved for a completion-based backend;
// it is NOT implemented yet, so asking for it falls back to epoll and says so through the
// builder's on_log callback. runtime::io_backend() tells which one is running.
#pragma once

#include <string_view>

namespace rt {

enum class io_backend { epoll, io_uring };

constexpr std::string_view to_string(io_backend b) noexcept {
    return b == io_backend::epoll ? "epoll" : "io_uring";
}

} // namespace rt
