// yield, Boost.Asio version: the same program as yield_rt.cpp on C++20 awaitables.
//
// T tasks (--tasks, default 1,000) each yield K times (--k, default 10,000) and are then joined.
// Asio's yield is `co_await post(executor, use_awaitable)`: the coroutine goes to the back of the
// io_context's queue, as rt::yield_now() puts the task at the back of its scheduler's queue.
// Reports yields/s (T*K over the wall time of spawn + run + join) and CPU time.
#include "asio_common.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* bench_name = "yield";
namespace net = boost::asio;
using net::awaitable;
using net::use_awaitable;

awaitable<std::uint64_t> yielder(std::uint64_t k) {
    auto ex = co_await net::this_coro::executor;
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < k; ++i) {
        co_await net::post(ex, use_awaitable);
        ++done;
    }
    co_return done;
}

awaitable<void> root(std::uint64_t tasks, std::uint64_t k, std::uint64_t* total, bench::region* r) {
    auto ex = co_await net::this_coro::executor;
    std::vector<bench::asio::join_handle<std::uint64_t>> handles;
    handles.reserve(tasks);
    r->start();
    for (std::uint64_t i = 0; i < tasks; ++i)
        handles.push_back(bench::asio::spawn(ex, yielder(k)));
    for (auto& h : handles) {
        const std::uint64_t v = co_await h.join();
        *total += v;
    }
    r->stop();
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"tasks", "k"});
    const std::uint64_t tasks = args.get("tasks", 1'000);
    const std::uint64_t k = args.get("k", 10'000);
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "asio", args.timeout_s(300));

    std::uint64_t total = 0;
    bench::region r;
    bench::asio::run(bench_name, threads, root(tasks, k, &total, &r));

    if (total != tasks * k)
        bench::fail(bench_name, "asio",
                    "yields " + std::to_string(total) + " != " + std::to_string(tasks * k));
    bench::json_line(bench_name, "asio")
        .integer("tasks", tasks)
        .integer("k", k)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("yields_per_s", double(total) / r.wall_s())
        .print();
}
