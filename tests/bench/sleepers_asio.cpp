// sleepers, Boost.Asio version: the same program as sleepers_rt.cpp on C++20 awaitables.
//
// Spawns N tasks (default 1,000,000) with co_spawn that each wait on their own steady_timer for
// 1 s (expires_after(1s), the Asio spelling of sleep(1s)), keeps a vector of join handles
// (asio_common.hpp), then joins each in order. The io_context is run by --threads threads
// (default: number of cores). Reports wall and CPU time of spawn + sleep + join, the time the spawn
// loop took, peak RSS and peak RSS per task (growth of the peak over the run / N), and the lateness
// of each wake-up (now() - (start + 1 s), measured inside the task and stored in a preallocated
// vector) as p50/p99/max.
#include "asio_common.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <vector>

namespace {

constexpr const char* bench_name = "sleepers";
namespace net = boost::asio;
using net::awaitable;
using net::use_awaitable;

awaitable<void> sleeper(std::int64_t* lateness_ns) {
    net::steady_timer timer(co_await net::this_coro::executor);
    auto deadline = bench::clock::now() + std::chrono::seconds(1);
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(use_awaitable);
    *lateness_ns = (bench::clock::now() - deadline).count();
}

awaitable<void> root(std::uint64_t n, std::vector<std::int64_t>* lateness, bench::region* r,
                     bench::clock::time_point* spawned) {
    auto ex = co_await net::this_coro::executor;
    std::vector<bench::asio::join_handle<void>> handles;
    handles.reserve(n);
    r->start();
    for (std::uint64_t i = 0; i < n; ++i)
        handles.push_back(bench::asio::spawn(ex, sleeper(&(*lateness)[i])));
    *spawned = bench::clock::now();
    for (auto& h : handles)
        co_await h.join();
    r->stop();
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n"});
    const std::uint64_t n = args.get("n", 1'000'000);
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "asio", args.timeout_s(300));

    std::vector<std::int64_t> lateness(n, INT64_MIN);
    const std::uint64_t rss_before = bench::peak_rss_bytes();
    bench::region r;
    bench::clock::time_point spawned;
    bench::asio::run(bench_name, threads, root(n, &lateness, &r, &spawned));
    const std::uint64_t rss_after = bench::peak_rss_bytes();

    for (auto l : lateness)
        if (l == INT64_MIN)
            bench::fail(bench_name, "asio", "a sleeper did not record its wake-up");
    const double max_ns = n ? double(*std::max_element(lateness.begin(), lateness.end())) : 0.0;
    bench::json_line(bench_name, "asio")
        .integer("n", n)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("spawn_s", std::chrono::duration<double>(spawned - r.wall0).count())
        .num("cpu_s", r.cpu_s())
        .num("rss_per_task_b", n ? double(rss_after - rss_before) / double(n) : 0.0)
        .num("late_p50_ms", bench::percentile(lateness, 50) / 1e6)
        .num("late_p99_ms", bench::percentile(lateness, 99) / 1e6)
        .num("late_max_ms", max_ns / 1e6)
        .print();
}
