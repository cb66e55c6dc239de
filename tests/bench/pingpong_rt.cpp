// ping-pong between two tasks, rt version: the cost of one task waking another and being woken
// back, with nothing spawned or finished on the way.
//
// Two long-lived tasks pass a counter through two rt::mpsc channels of capacity 1: the pinger
// sends n and waits for the reply, the ponger receives it and sends n + 1 back. One round = two
// messages and two wake-ups. --m rounds (default 1,000,000); the pinger runs on a worker
// (bench::on_worker) and the ponger is spawned, so both are ordinary tasks on the runtime's
// --threads workers. Reports rounds/s and, over batches of 1,000 rounds, the time per round as
// p50/p99 (timing every round would add two clock reads to a round of a few hundred ns). The
// final counter is checked. pingpong_asio.cpp is the same program on Boost.Asio.
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <vector>

namespace {

constexpr const char* bench_name = "pingpong";
constexpr std::uint64_t batch = 1000;

rt::task<> ponger(rt::mpsc::receiver<std::uint64_t> rx, rt::mpsc::sender<std::uint64_t> tx) {
    for (;;) {
        auto recv = rx.recv();
        auto v = co_await recv;
        if (!v)
            co_return; // the pinger is done
        auto send = tx.send(*v + 1);
        if (!co_await send)
            co_return;
    }
}

struct result {
    std::uint64_t last = 0;
    std::vector<double> round_ns;
};

rt::task<> pinger(std::uint64_t rounds, result* out, bench::region* r) {
    auto [ping_tx, ping_rx] = rt::mpsc::channel<std::uint64_t>(1);
    auto [pong_tx, pong_rx] = rt::mpsc::channel<std::uint64_t>(1);
    auto peer = rt::spawn(ponger(std::move(ping_rx), std::move(pong_tx)));
    out->round_ns.reserve(rounds / batch + 1);
    std::uint64_t v = 0;
    r->start();
    for (std::uint64_t done = 0; done < rounds;) {
        const std::uint64_t n = std::min(batch, rounds - done);
        const auto t0 = bench::clock::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            auto send = ping_tx.send(v);
            if (!co_await send)
                bench::fail(bench_name, "rt", "the ponger hung up");
            auto recv = pong_rx.recv();
            auto got = co_await recv;
            if (!got)
                bench::fail(bench_name, "rt", "the ponger hung up");
            v = *got;
        }
        out->round_ns.push_back(
            std::chrono::duration<double, std::nano>(bench::clock::now() - t0).count() / double(n));
        done += n;
    }
    r->stop();
    { auto hang_up = std::move(ping_tx); } // ends the ponger's loop
    co_await peer;
    out->last = v;
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"m"});
    const std::uint64_t rounds = std::max<std::uint64_t>(1, args.get("m", 1'000'000));
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    result res;
    bench::region r;
    runtime.block_on(bench::on_worker(pinger(rounds, &res, &r)));

    if (res.last != rounds)
        bench::fail(bench_name, "rt", "the counter came back wrong");
    bench::json_line(bench_name, "rt")
        .integer("m", rounds)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("rounds_per_s", double(rounds) / r.wall_s())
        .num("round_p50_ns", bench::percentile(res.round_ns, 50))
        .num("round_p99_ns", bench::percentile(res.round_ns, 99))
        .print();
}
