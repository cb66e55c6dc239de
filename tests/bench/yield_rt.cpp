// yield, rt version: T tasks (--tasks, default 1,000) each `co_await rt::yield_now()` K times
// (--k, default 10,000), then are joined by the root (on a worker).
//
// yield_now puts the task at the back of its scheduler's queue; yield_asio.cpp does the same with
// `co_await post(executor, use_awaitable)`. Reports yields/s (T*K over the wall time of
// spawn + run + join) and CPU time. The number of yields done is returned by each task and checked.
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* bench_name = "yield";

rt::task<std::uint64_t> yielder(std::uint64_t k) {
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < k; ++i) {
        co_await rt::yield_now();
        ++done;
    }
    co_return done;
}

rt::task<> root(std::uint64_t tasks, std::uint64_t k, std::uint64_t* total, bench::region* r) {
    std::vector<rt::join_handle<std::uint64_t>> handles;
    handles.reserve(tasks);
    r->start();
    for (std::uint64_t i = 0; i < tasks; ++i)
        handles.push_back(rt::spawn(yielder(k)));
    for (auto& h : handles) {
        auto res = co_await h;
        if (!res.has_value())
            bench::fail(bench_name, "rt", "join failed: " + res.error().what());
        *total += res.value();
    }
    r->stop();
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"tasks", "k"});
    const std::uint64_t tasks = args.get("tasks", 1'000);
    const std::uint64_t k = args.get("k", 10'000);
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    std::uint64_t total = 0;
    bench::region r;
    runtime.block_on(bench::on_worker(root(tasks, k, &total, &r)));

    if (total != tasks * k)
        bench::fail(bench_name, "rt",
                    "yields " + std::to_string(total) + " != " + std::to_string(tasks * k));
    bench::json_line(bench_name, "rt")
        .integer("tasks", tasks)
        .integer("k", k)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("yields_per_s", double(total) / r.wall_s())
        .print();
}
