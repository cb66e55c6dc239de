// rt::net::lookup_host: resolve "name:port" to socket addresses (getaddrinfo, on the blocking
// pool, since it has no non-blocking form).
//
//     auto addrs = co_await rt::net::lookup_host("localhost:8080");
//     if (addrs) for (auto& a : *addrs) std::cout << a.to_string() << '\n';
//
// Address literals ("127.0.0.1:80", "[::1]:80") come back at once without a lookup. Failures of
// the resolver itself (unknown host, no network) are errors of resolve_category(), whose values
// are getaddrinfo's EAI_* codes; a system error behind EAI_SYSTEM is its errno instead. Not
// cancel-safe in the sense that the lookup keeps running to its end on the blocking pool (its
// result is dropped).
#pragma once

#include "rt/io/io_result.hpp"
#include "rt/net/socket_address.hpp"
#include "rt/task/task.hpp"

#include <string_view>
#include <system_error>
#include <vector>

namespace rt::net {

/// The error category of getaddrinfo's EAI_* results (messages from gai_strerror).
const std::error_category& resolve_category() noexcept;

/// "host:port" or "[host]:port"; EINVAL without a port.
[[nodiscard("co_await it")]] rt::task<io_result<std::vector<socket_address>>>
lookup_host(std::string_view host_and_port);

} // namespace rt::net
