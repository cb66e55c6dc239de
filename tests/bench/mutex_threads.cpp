// mutex, threads baseline: the same program as mutex_rt.cpp with one std::thread per task and a
// std::mutex: T threads (--tasks, default 4) each do N rounds (--n, default 1,000,000) of
// lock / increment / unlock on one counter, which must end at T * N. Reports lock operations per
// second over the whole run (thread start to the last join), CPU time and peak RSS. --threads is
// accepted and reported but the thread count is T: that is what this baseline is.
#include "bench_common.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {
constexpr const char* bench_name = "mutex";
} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "tasks"});
    const std::uint64_t n = args.get("n", 1'000'000);
    const std::uint64_t tasks = std::max<std::uint64_t>(1, args.get("tasks", 4));
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "threads", args.timeout_s(300));

    std::mutex m;
    std::uint64_t counter = 0;
    bench::region r;
    r.start();
    std::vector<std::thread> ts;
    for (std::uint64_t t = 0; t < tasks; ++t) {
        ts.emplace_back([&] {
            for (std::uint64_t i = 0; i < n; ++i) {
                std::lock_guard g(m);
                ++counter;
            }
        });
    }
    for (auto& t : ts)
        t.join();
    r.stop();

    if (counter != tasks * n)
        bench::fail(bench_name, "threads",
                    "counter " + std::to_string(counter) + " != " + std::to_string(tasks * n));
    bench::json_line(bench_name, "threads")
        .integer("n", n)
        .integer("tasks", tasks)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("locks_per_s", double(tasks * n) / r.wall_s())
        .print();
}
