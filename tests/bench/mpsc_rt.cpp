// mpsc, rt version: P producer tasks (--producers, default 1) push N messages in all (--n, default
// 10,000,000) through one bounded rt::mpsc channel (--capacity, default 1,024) to one consumer.
//
// Shape, identical in mpsc_threads.cpp (std::thread + std::mutex/std::condition_variable ring):
// producer p sends (p << 40 | i) for i in [0, N/P) (the first N % P producers send one more);
// the consumer (the root, on a worker) receives until every sender is gone, checking that each
// producer's messages arrive in order and that all N arrived. Reports msgs/s over the whole
// transfer (spawn of the producers to the last receive), CPU time and peak RSS. The benchmark is
// named mpsc_<P>to1 so that the runner keeps the shapes apart.
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/chan/mpsc.hpp>
#include <rt/rt.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* impl = "rt";

rt::task<> producer(rt::mpsc::sender<std::uint64_t> tx, std::uint64_t id, std::uint64_t count,
                    const char* name) {
    for (std::uint64_t i = 0; i < count; ++i) {
        if (!co_await tx.send((id << 40) | i))
            bench::fail(name, impl, "send failed: channel closed");
    }
    tx = {}; // the stream ends with the last producer, not when its frame is freed
}

struct result {
    std::uint64_t received = 0;
    bool in_order = true;
};

rt::task<> root(std::uint64_t n, std::uint64_t producers, std::size_t capacity, const char* name,
                result* out, bench::region* r) {
    auto [tx, rx] = rt::mpsc::channel<std::uint64_t>(capacity);
    std::vector<rt::join_handle<void>> handles;
    std::vector<std::uint64_t> next(producers, 0);
    r->start();
    for (std::uint64_t p = 0; p < producers; ++p)
        handles.push_back(
            rt::spawn(producer(tx, p, n / producers + (p < n % producers ? 1 : 0), name)));
    tx = {};
    while (auto m = co_await rx.recv()) {
        std::uint64_t p = *m >> 40, i = *m & ((std::uint64_t{1} << 40) - 1);
        out->in_order = out->in_order && p < producers && next[p] == i;
        if (p < producers)
            next[p] = i + 1;
        ++out->received;
    }
    r->stop();
    for (auto& h : handles)
        co_await h;
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "producers", "capacity"});
    const std::uint64_t n = args.get("n", 10'000'000);
    const std::uint64_t producers = std::max<std::uint64_t>(1, args.get("producers", 1));
    const std::size_t capacity = std::max<std::uint64_t>(1, args.get("capacity", 1024));
    const unsigned threads = args.threads();
    const std::string name = "mpsc_" + std::to_string(producers) + "to1";
    bench::start_watchdog(name.c_str(), impl, args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    result res;
    bench::region r;
    runtime.block_on(bench::on_worker(root(n, producers, capacity, name.c_str(), &res, &r)));

    if (res.received != n)
        bench::fail(name.c_str(), impl,
                    "received " + std::to_string(res.received) + " != " + std::to_string(n));
    if (!res.in_order)
        bench::fail(name.c_str(), impl, "a producer's messages arrived out of order");
    bench::json_line(name.c_str(), impl)
        .integer("n", n)
        .integer("producers", producers)
        .integer("capacity", capacity)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("msgs_per_s", double(n) / r.wall_s())
        .print();
}
