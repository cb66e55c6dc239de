// join chain, Boost.Asio version: the same program as join_chain_rt.cpp.
//
// Measures the latency of "child finishes -> its joiner runs again". A chain of depth D
// (--depth, default 1,000): the root spawns hop(D-1) and awaits its join handle, hop(r) spawns
// hop(r-1) and awaits it, ..., hop(0) returns; then the chain unwinds, each child's completion
// waking its joiner. One hop = one spawn + one join wake-up, D hops per chain. Chains run one
// after the other until M hops (--m, default 1,000,000; rounded down to whole chains) are done,
// so at most D frames are alive. Reports hops/s and the per-hop time of each chain (chain time / D)
// as p50/p99. The result (depth reached) is checked.
#include "asio_common.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {

constexpr const char* bench_name = "join_chain";
namespace net = boost::asio;
using net::awaitable;

awaitable<std::uint64_t> hop(std::uint64_t remaining) {
    if (remaining == 0)
        co_return 1;
    auto ex = co_await net::this_coro::executor;
    auto child = bench::asio::spawn(ex, hop(remaining - 1));
    const std::uint64_t below = co_await child.join();
    co_return 1 + below;
}

struct result {
    std::uint64_t chains = 0;
    std::vector<double> hop_ns;
    bool ok = true;
};

awaitable<void> root(std::uint64_t chains, std::uint64_t depth, result* out, bench::region* r) {
    auto ex = co_await net::this_coro::executor;
    out->hop_ns.reserve(chains);
    r->start();
    for (std::uint64_t c = 0; c < chains; ++c) {
        const auto t0 = bench::clock::now();
        auto h = bench::asio::spawn(ex, hop(depth - 1));
        const std::uint64_t reached = co_await h.join();
        out->hop_ns.push_back(
            std::chrono::duration<double, std::nano>(bench::clock::now() - t0).count() /
            double(depth));
        out->ok = out->ok && reached == depth;
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
    bench::start_watchdog(bench_name, "asio", args.timeout_s(300));

    result res;
    bench::region r;
    bench::asio::run(bench_name, threads, root(chains, depth, &res, &r));

    if (!res.ok || res.chains != chains)
        bench::fail(bench_name, "asio", "a chain came back short");
    const std::uint64_t hops = chains * depth;
    bench::json_line(bench_name, "asio")
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
