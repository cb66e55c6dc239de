// sleepers, rt version: the "a million sleeping tasks" program of the book chapter.
//
// Spawns N tasks (default 1,000,000) that each `co_await rt::sleep(1s)`, keeps a vector of join
// handles, then awaits each in order. Workers: --threads (default: number of cores); the root runs
// on a worker (bench::on_worker), as Asio's runs on one of its threads. Reports wall and CPU time
// of spawn + sleep + join, the time the
// spawn loop took, peak RSS and peak RSS per task (growth of the peak over the run / N), and the
// lateness of each wake-up (now() - (start + 1 s), measured inside the task and stored in a
// preallocated vector) as p50/p99/max. sleepers_asio.cpp is the same program on Boost.Asio.
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <climits>
#include <cstdint>
#include <vector>

namespace {

constexpr const char* bench_name = "sleepers";

rt::task<> sleeper(std::int64_t* lateness_ns) {
    const auto deadline = bench::clock::now() + std::chrono::seconds(1);
    co_await rt::sleep(std::chrono::seconds(1));
    *lateness_ns = (bench::clock::now() - deadline).count();
}

rt::task<> root(std::uint64_t n, std::vector<std::int64_t>* lateness, bench::region* r,
                bench::clock::time_point* spawned) {
    std::vector<rt::join_handle<void>> handles;
    handles.reserve(n);
    r->start();
    for (std::uint64_t i = 0; i < n; ++i)
        handles.push_back(rt::spawn(sleeper(&(*lateness)[i])));
    *spawned = bench::clock::now();
    for (auto& h : handles) {
        auto res = co_await h;
        if (!res.has_value())
            bench::fail(bench_name, "rt", "join failed: " + res.error().what());
    }
    r->stop();
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n"});
    const std::uint64_t n = args.get("n", 1'000'000);
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    std::vector<std::int64_t> lateness(n, INT64_MIN);
    const std::uint64_t rss_before = bench::peak_rss_bytes();
    bench::region r;
    bench::clock::time_point spawned;
    runtime.block_on(bench::on_worker(root(n, &lateness, &r, &spawned)));
    const std::uint64_t rss_after = bench::peak_rss_bytes();

    for (auto l : lateness)
        if (l == INT64_MIN)
            bench::fail(bench_name, "rt", "a sleeper did not record its wake-up");
    const double max_ns = n ? double(*std::max_element(lateness.begin(), lateness.end())) : 0.0;
    bench::json_line(bench_name, "rt")
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
