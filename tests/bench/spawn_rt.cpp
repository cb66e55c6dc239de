// spawn, rt version: spawn and join N trivial tasks (default 1,000,000) that each return an int.
//
// Shape, identical in spawn_asio.cpp: batches of --batch tasks (default 1,000); the root (on a
// worker, see bench::on_worker) spawns a whole batch into a vector of join handles, then awaits
// them in order, summing the results; the sum over all batches is checked. Reports tasks/s over the
// whole run and the time of one batch (spawn + join of --batch tasks) as p50/p99, plus CPU time and
// peak RSS.
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* bench_name = "spawn";

rt::task<int> trivial(int v) {
    co_return v;
}

struct result {
    std::int64_t sum = 0;
    std::vector<double> batch_us;
};

rt::task<> root(std::uint64_t n, std::uint64_t batch, result* out, bench::region* r) {
    std::vector<rt::join_handle<int>> handles;
    handles.reserve(batch);
    out->batch_us.reserve(n / batch + 1);
    r->start();
    for (std::uint64_t done = 0; done < n;) {
        const std::uint64_t count = std::min(batch, n - done);
        const auto t0 = bench::clock::now();
        for (std::uint64_t i = 0; i < count; ++i)
            handles.push_back(rt::spawn(trivial(int((done + i) % 1000))));
        for (auto& h : handles) {
            auto res = co_await h;
            if (!res.has_value())
                bench::fail(bench_name, "rt", "join failed: " + res.error().what());
            out->sum += res.value();
        }
        handles.clear();
        out->batch_us.push_back(
            std::chrono::duration<double, std::micro>(bench::clock::now() - t0).count());
        done += count;
    }
    r->stop();
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "batch"});
    const std::uint64_t n = args.get("n", 1'000'000);
    const std::uint64_t batch = std::max<std::uint64_t>(1, args.get("batch", 1'000));
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    result res;
    bench::region r;
    runtime.block_on(bench::on_worker(root(n, batch, &res, &r)));

    std::int64_t expected = 0;
    for (std::uint64_t i = 0; i < n; ++i)
        expected += std::int64_t(i % 1000);
    if (res.sum != expected)
        bench::fail(bench_name, "rt",
                    "sum " + std::to_string(res.sum) + " != " + std::to_string(expected));
    bench::json_line(bench_name, "rt")
        .integer("n", n)
        .integer("batch", batch)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("tasks_per_s", double(n) / r.wall_s())
        .num("batch_p50_us", bench::percentile(res.batch_us, 50))
        .num("batch_p99_us", bench::percentile(res.batch_us, 99))
        .print();
}
