// The chapter's authentication middleware: the user's identity travels through the handler chain
// in a task-local value instead of a parameter of every function. Prints:
//   Response: Err("No USER-ID header")
//   Response: Ok("Order submitted: Test payload 2")
//   Response: Err("User ID_2222 is not authorized")
#include <rt/rt.hpp>

#include <iostream>
#include <map>
#include <optional>
#include <string>

enum class role { customer, guest };

struct user_info {
    std::string id; // User ID (taken from the request)
    role r;         // Role (determined on the server by ID)
};

RT_TASK_LOCAL(user_info, USER);

// Represents an HTTP request from a user
struct request {
    std::string path;                           // URL path from the request
    std::map<std::string, std::string> headers; // HTTP headers
    std::string payload;                        // Request body
};

using response = rt::expected<std::string, std::string>;

std::optional<role> find_user_role(const std::string& id) {
    // Simulating a database lookup
    if (id == "ID_1111")
        return role::customer;
    if (id == "ID_2222")
        return role::guest;
    return std::nullopt;
}

// Middleware that runs before the handler to put the user's identity into task-local storage.
template <class Handler>
rt::task<response> auth_middleware(request req, Handler request_handler) {
    auto it = req.headers.find("USER-ID");
    if (it == req.headers.end())
        co_return rt::unexpected(std::string("No USER-ID header"));
    std::string user_id = it->second;
    auto r = find_user_role(user_id);
    if (!r)
        co_return rt::unexpected("No role for user with ID=" + user_id);
    // Place user information into task-local storage and call the request handler.
    // (A named local, not a temporary: g++ 12 miscopies class temporaries inside co_await.)
    user_info info{user_id, *r};
    co_return co_await USER.scope(std::move(info), request_handler(std::move(req)));
}

// Business logic: only customers may submit orders.
rt::task<response> submit_user_order(std::string order) {
    co_return USER.with([&](const user_info& u) -> response {
        if (u.r != role::customer)
            return rt::unexpected("User " + u.id + " is not authorized");
        return "Order submitted: " + order;
    });
}

// Handler for requests with the path /orders/submit
rt::task<response> handle_submit_order(request req) {
    co_return co_await submit_user_order(std::move(req.payload));
}

rt::task<response> serve_request(request req) {
    if (req.path == "/orders/submit")
        co_return co_await auth_middleware(std::move(req), handle_submit_order);
    co_return rt::unexpected(std::string("Unexpected path"));
}

void print(const response& r) {
    if (r)
        std::cout << "Response: Ok(\"" << *r << "\")\n";
    else
        std::cout << "Response: Err(\"" << r.error() << "\")\n";
}

rt::task<> async_main() {
    // Request without a session ID
    {
        request req{.path = "/orders/submit", .headers = {}, .payload = "Test payload 1"};
        print(co_await serve_request(std::move(req)));
    }
    // Request with a CUSTOMER session ID
    {
        request req{.path = "/orders/submit",
                    .headers = {{"USER-ID", "ID_1111"}},
                    .payload = "Test payload 2"};
        print(co_await serve_request(std::move(req)));
    }
    // Request with a GUEST session ID
    {
        request req{.path = "/orders/submit",
                    .headers = {{"USER-ID", "ID_2222"}},
                    .payload = "Test payload 3"};
        print(co_await serve_request(std::move(req)));
    }
}

int main() {
    rt::run(async_main());
}
