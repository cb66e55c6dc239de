// What `co_await x` means for a type: which awaiter it produces and what it gives back.
// Used by select and timeout to type their branches.
#pragma once

#include <concepts>
#include <coroutine>
#include <utility>

namespace rt::detail {

template <class A>
concept awaiter = requires(A& a, std::coroutine_handle<> h) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_suspend(h);
    a.await_resume();
};

template <class A>
concept has_member_co_await = requires(A&& a) {
    std::forward<A>(a).operator co_await();
};

template <class A>
concept has_free_co_await = requires(A&& a) {
    operator co_await(std::forward<A>(a));
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>)
        return std::forward<A>(a).operator co_await();
    else if constexpr (has_free_co_await<A>)
        return operator co_await(std::forward<A>(a));
    else
        return std::forward<A>(a);
}

template <class A>
using awaiter_t = decltype(get_awaiter(std::declval<A>()));

template <class A>
using await_result_t = decltype(std::declval<awaiter_t<A>&>().await_resume());

} // namespace rt::detail

namespace rt {
/// Anything `co_await` accepts inside an rt::task.
template <class A>
concept awaitable = detail::awaiter<std::remove_reference_t<detail::awaiter_t<A>>>;
} // namespace rt
