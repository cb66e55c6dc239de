// rt::io_result<T>: what every I/O operation of rt gives back.
//
//     rt::io_result<std::size_t> n = co_await stream.read(buf);
//     if (!n) log(n.error().message());   // an errno-valued std::error_code, never an exception
//
// Errors carry the errno of the failing system call in std::system_category(), so they compare
// equal to std::errc values (`n.error() == std::errc::connection_refused`). Name resolution
// failures use rt::net::resolve_category() (see rt/net/lookup_host.hpp).
#pragma once

#include "rt/expected.hpp"

#include <cerrno>
#include <system_error>

namespace rt {

template <class T>
using io_result = expected<T, std::error_code>;

namespace detail {
/// The current errno as an error value.
inline unexpected<std::error_code> last_error() noexcept {
    return unexpected(std::error_code(errno, std::system_category()));
}
inline unexpected<std::error_code> make_error(int err) noexcept {
    return unexpected(std::error_code(err, std::system_category()));
}
} // namespace detail

} // namespace rt
