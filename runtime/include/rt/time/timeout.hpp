// rt::timeout: give an awaitable a deadline.
//
//     auto r = co_await rt::timeout(500ms, fetch(url));
//     if (!r) { /* r.error() is rt::elapsed: fetch was cancelled */ }
//
// If the awaitable completes first, its value comes back; otherwise it is cancelled (its frame
// and awaiters destroyed, so nothing it registered stays behind) and the result holds
// rt::elapsed. An awaitable that completes without waiting wins even with a zero duration.
#pragma once

#include "rt/detail/select.hpp"
#include "rt/expected.hpp"
#include "rt/time/sleep.hpp"

namespace rt {

/// The error of a timeout whose time ran out.
struct elapsed {
    const char* what() const noexcept { return "deadline has elapsed"; }
    friend bool operator==(elapsed, elapsed) noexcept { return true; }
};

namespace detail {

template <class A>
class timeout_awaitable {
    using inner_result = await_result_t<A>;

public:
    template <class Arg>
    timeout_awaitable(clock::time_point deadline, Arg&& a)
        : select_(std::forward<Arg>(a), sleep_awaiter(deadline)) {}

    RT_AWAIT_POINT("timeout");
    void await_describe(std::string& out) const {
        const char* inner = select_.branch_what(0);
        out = std::string("of ") + (inner != nullptr ? inner : "-");
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) { return select_.await_suspend(h); }
    expected<inner_result, elapsed> await_resume() {
        auto r = select_.await_resume();
        if (r.index() == 1)
            return unexpected(elapsed{});
        if constexpr (std::is_void_v<inner_result>)
            return {};
        else
            return std::move(std::get<0>(r));
    }

private:
    select_awaitable<A, sleep_awaiter> select_;
};

} // namespace detail

template <class Rep, class Period, class A>
[[nodiscard("co_await it")]] detail::timeout_awaitable<A>
timeout(std::chrono::duration<Rep, Period> d, A&& a) {
    auto deadline = clock::now() + std::chrono::ceil<clock::duration>(d < d.zero() ? d.zero() : d);
    return detail::timeout_awaitable<A>(deadline, std::forward<A>(a));
}

template <class A>
[[nodiscard("co_await it")]] detail::timeout_awaitable<A> timeout_at(clock::time_point deadline,
                                                                     A&& a) {
    return detail::timeout_awaitable<A>(deadline, std::forward<A>(a));
}

} // namespace rt
