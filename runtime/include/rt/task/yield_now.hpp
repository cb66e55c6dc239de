// rt::yield_now(): lets other tasks run, then continues.
//
//     for (auto& item : big_batch) { process(item); co_await rt::yield_now(); }
//
// The task goes to the back of its worker's run queue, behind everything already queued, so a
// loop that yields shares the worker fairly. Outside a task it completes at once.
#pragma once

#include "rt/detail/context.hpp"

#include <coroutine>

namespace rt {

namespace detail {
struct yield_awaiter {
    RT_AWAIT_POINT("yield");
    bool await_ready() const noexcept { return tls.task == nullptr; }
    void await_suspend(std::coroutine_handle<>) const noexcept { yield_current(); }
    void await_resume() const noexcept {}
};
} // namespace detail

[[nodiscard("co_await it")]] inline detail::yield_awaiter yield_now() noexcept {
    return {};
}

} // namespace rt
