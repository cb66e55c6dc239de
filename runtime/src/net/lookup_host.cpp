#include "rt/net/lookup_host.hpp"

#include "rt/task/spawn.hpp"

#include <netdb.h>
#include <string>

namespace rt::net {

namespace {

class resolve_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int ev) const override { return ::gai_strerror(ev); }
};

// Runs on the blocking pool: owns its inputs, touches nothing of the awaiting task.
io_result<std::vector<socket_address>> resolve(const std::string& host, const std::string& port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
    if (rc == EAI_SYSTEM)
        return detail::last_error();
    if (rc != 0)
        return unexpected(std::error_code(rc, resolve_category()));
    std::vector<socket_address> out;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next)
        out.push_back(socket_address::from_native(ai->ai_addr, ai->ai_addrlen));
    ::freeaddrinfo(res);
    return out;
}

rt::task<io_result<std::vector<socket_address>>> lookup(std::string text) {
    if (auto lit = socket_address::parse(text))
        co_return std::vector<socket_address>{*lit};
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size())
        co_return detail::make_error(EINVAL);
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    std::string port = text.substr(colon + 1);
    auto job = [host = std::move(host), port = std::move(port)] { return resolve(host, port); };
    auto handle = rt::spawn_blocking(std::move(job), {.name = "lookup_host"});
    auto r = co_await handle;
    if (!r)
        co_return detail::make_error(ECANCELED); // the runtime is shutting down
    co_return std::move(*r);
}

} // namespace

const std::error_category& resolve_category() noexcept {
    static const resolve_category_impl cat;
    return cat;
}

rt::task<io_result<std::vector<socket_address>>> lookup_host(std::string_view host_and_port) {
    // Copied here: the coroutine starts later, when the caller's view may be gone.
    return lookup(std::string(host_and_port));
}

} // namespace rt::net
