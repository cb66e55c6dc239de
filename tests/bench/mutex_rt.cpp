// mutex, rt version: T tasks (--tasks, default 4) each do N rounds (--n, default 1,000,000) of
// lock / increment / unlock on one rt::mutex<std::uint64_t>.
//
// Shape, identical in mutex_threads.cpp (std::thread + std::mutex): the root (on a worker) spawns
// the tasks and joins them; the counter must end at T * N. The lock is held for one increment,
// so the figure is the cost of a contended acquire/release pair: lock operations per second over
// the whole run, CPU time and peak RSS.
//
// Written against the rt::mutex contract: `rt::mutex<T> m(v); auto g = co_await m.lock(); ++*g;`
// (the guard unlocks when destroyed).
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* bench_name = "mutex";

rt::task<> worker(rt::mutex<std::uint64_t>* m, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto g = co_await m->lock();
        ++*g;
    }
}

rt::task<std::uint64_t> root(std::uint64_t tasks, std::uint64_t n, bench::region* r) {
    rt::mutex<std::uint64_t> m(0);
    std::vector<rt::join_handle<void>> hs;
    r->start();
    for (std::uint64_t t = 0; t < tasks; ++t)
        hs.push_back(rt::spawn(worker(&m, n)));
    for (auto& h : hs) {
        auto res = co_await h;
        if (!res)
            bench::fail(bench_name, "rt", "task failed: " + res.error().what());
    }
    r->stop();
    auto g = co_await m.lock();
    co_return *g;
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "tasks"});
    const std::uint64_t n = args.get("n", 1'000'000);
    const std::uint64_t tasks = std::max<std::uint64_t>(1, args.get("tasks", 4));
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    bench::region r;
    const std::uint64_t total = runtime.block_on(bench::on_worker(root(tasks, n, &r)));

    if (total != tasks * n)
        bench::fail(bench_name, "rt",
                    "counter " + std::to_string(total) + " != " + std::to_string(tasks * n));
    bench::json_line(bench_name, "rt")
        .integer("n", n)
        .integer("tasks", tasks)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("locks_per_s", double(tasks * n) / r.wall_s())
        .print();
}
