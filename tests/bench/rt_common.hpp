// Shared plumbing of the rt benchmark programs.
#pragma once

#include <rt/rt.hpp>

#include <stdexcept>
#include <utility>

namespace bench {

// Runs a benchmark's root task on one of the runtime's workers and waits for it from block_on.
// Asio's root runs on one of its N io_context threads, so this keeps the two programs the same
// shape: N threads do the work, and spawns from the root take the worker's local path.
template <class T>
rt::task<T> on_worker(rt::task<T> root) {
    auto h = rt::spawn(std::move(root), {.name = "bench-root"});
    auto r = co_await h;
    if (!r)
        r.error().rethrow();
    if constexpr (!std::is_void_v<T>)
        co_return std::move(*r);
}

} // namespace bench
