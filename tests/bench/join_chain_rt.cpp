// join chain, rt version: the latency of "child finishes -> its joiner runs".
//
// The token is passed through join handles, so every hop also spawns a task and finishes one
// (pingpong_rt.cpp passes a token between two long-lived tasks instead). A chain of depth D
// (--depth, default 1,000): the root spawns hop(D-1) and awaits its join handle, hop(r) spawns
// hop(r-1) and awaits it, ..., hop(0) returns; then the chain unwinds, each child's completion
// waking its joiner. One hop = one spawn + one join wake-up, D hops per chain. Chains run one
// after the other until M hops (--m, default 1,000,000; rounded down to whole chains) are done,
// so at most D frames are alive. Reports hops/s and the per-hop time of each chain (chain time / D)
// as p50/p99. The depth reached is checked. join_chain_asio.cpp is the same program on Boost.Asio.
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* bench_name = "join_chain";

rt::task<std::uint64_t> hop(std::uint64_t remaining) {
    if (remaining == 0)
        co_return 1;
    auto child = rt::spawn(hop(remaining - 1));
    auto res = co_await child;
    if (!res.has_value())
        bench::fail(bench_name, "rt", "join failed: " + res.error().what());
    co_return 1 + res.value();
}

struct result {
    std::uint64_t chains = 0;
    std::vector<double> hop_ns;
    bool ok = true;
};

rt::task<> root(std::uint64_t chains, std::uint64_t depth, result* out, bench::region* r) {
    out->hop_ns.reserve(chains);
    r->start();
    for (std::uint64_t c = 0; c < chains; ++c) {
        const auto t0 = bench::clock::now();
        auto h = rt::spawn(hop(depth - 1));
        auto res = co_await h;
        if (!res.has_value())
            bench::fail(bench_name, "rt", "join failed: " + res.error().what());
        out->hop_ns.push_back(
            std::chrono::duration<double, std::nano>(bench::clock::now() - t0).count() /
            double(depth));
        out->ok = out->ok && res.value() == depth;
        ++out->chains;
    }
    r->stop();
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"m", "depth"});
    const std::uint64_t depth = std::max<std::uint64_t>(1, args.get("depth", 1'000));
    const std::uint64_t chains = std::max<std::uint64_t>(1, args.get("m", 1'000'000) / depth);
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    result res;
    bench::region r;
    runtime.block_on(bench::on_worker(root(chains, depth, &res, &r)));

    if (!res.ok || res.chains != chains)
        bench::fail(bench_name, "rt", "a chain came back short");
    const std::uint64_t hops = chains * depth;
    bench::json_line(bench_name, "rt")
        .integer("m", hops)
        .integer("depth", depth)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("hops_per_s", double(hops) / r.wall_s())
        .num("hop_p50_ns", bench::percentile(res.hop_ns, 50))
        .num("hop_p99_ns", bench::percentile(res.hop_ns, 99))
        .print();
}
