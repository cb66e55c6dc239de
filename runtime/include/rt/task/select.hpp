// rt::select: wait for the first of several awaitables; cancel the rest.
//
//     auto r = co_await rt::select(rx.recv(), rt::sleep(1s), handle);
//     switch (r.index()) { case 0: ... std::get<0>(r) ...; case 1: /* timed out */; ... }
//
// The result is a std::variant with one alternative per branch, in order (std::monostate for a
// branch that gives void), so index() says which branch won. Losing branches are destroyed before
// the awaiting task continues. Branches start in order and the first to complete wins. An
// awaitable passed as an lvalue (a join_handle, say) is awaited in place and stays usable.
#pragma once

#include "rt/detail/select.hpp"

namespace rt {

template <class... As>
requires(sizeof...(As) >= 1)
    [[nodiscard("co_await it")]] detail::select_awaitable<As...> select(As&&... as) {
    return detail::select_awaitable<As...>(std::forward<As>(as)...);
}

} // namespace rt
