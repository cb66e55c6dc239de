// Introspection overhead: the same rt workloads with recording on (--recording 1, the default
// runtime) or off (--recording 0, runtime_builder::introspection(false)). run.sh runs the program
// once per setting, alternating, and the table shows on/off side by side.
//
// Workloads, each printed as its own JSON line (bench "overhead_<name>", impl "on" or "off"):
//   spawn     spawn and join --n trivial tasks in batches of 1,000 (as spawn_rt.cpp)
//   pingpong  two tasks pass a counter back and forth through two rt::mpsc channels of
//             capacity 1, --m rounds (as pingpong_rt.cpp)
//   join_chain  spawn/join chains of depth 100, --m hops in all (as join_chain_rt.cpp)
//   mpmc      2 producers and 2 consumers pass --msgs ints through a bounded(64) rt::mpmc channel
//   mpsc      4 producers send --msgs ints to one receiver through a bounded(1024) rt::mpsc channel
//   memory    --idle tasks spawned to wait on one rt::notify: resident bytes per live idle task
// Each reports throughput (or bytes) and wall/cpu time; memory also reports sizeof(task_header).
// --retain_s S and --retain_max N set runtime_builder::retain_completed (default 5 s, 1000), to
// see what retention costs; --sample N sets runtime_builder::poll_timing_sample (default 32; 1
// times every poll).
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

const char* impl_name = "on";

rt::task<int> trivial(int v) {
    co_return v;
}

rt::task<> spawn_root(std::uint64_t n, bench::region* r, std::int64_t* sum) {
    std::vector<rt::join_handle<int>> handles;
    handles.reserve(1000);
    r->start();
    for (std::uint64_t done = 0; done < n; done += 1000) {
        for (int i = 0; i < 1000; ++i)
            handles.push_back(rt::spawn(trivial(i)));
        for (auto& h : handles) {
            auto res = co_await h;
            *sum += res.value_or(0);
        }
        handles.clear();
    }
    r->stop();
}

rt::task<std::uint64_t> hop(std::uint64_t remaining) {
    if (remaining == 0)
        co_return 1;
    auto child = rt::spawn(hop(remaining - 1));
    auto res = co_await child;
    co_return 1 + res.value_or(0);
}

rt::task<> join_chain_root(std::uint64_t chains, std::uint64_t depth, bench::region* r,
                           std::uint64_t* hops) {
    r->start();
    for (std::uint64_t c = 0; c < chains; ++c) {
        auto h = rt::spawn(hop(depth - 1));
        auto res = co_await h;
        *hops += res.value_or(0);
    }
    r->stop();
}

rt::task<> ponger(rt::mpsc::receiver<std::uint64_t> rx, rt::mpsc::sender<std::uint64_t> tx) {
    for (;;) {
        auto recv = rx.recv();
        auto v = co_await recv;
        if (!v)
            co_return;
        auto send = tx.send(*v + 1);
        if (!co_await send)
            co_return;
    }
}

rt::task<> pingpong_root(std::uint64_t rounds, bench::region* r, std::uint64_t* last) {
    auto [ping_tx, ping_rx] = rt::mpsc::channel<std::uint64_t>(1);
    auto [pong_tx, pong_rx] = rt::mpsc::channel<std::uint64_t>(1);
    auto peer = rt::spawn(ponger(std::move(ping_rx), std::move(pong_tx)));
    r->start();
    std::uint64_t v = 0;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        auto send = ping_tx.send(v);
        co_await send;
        auto recv = pong_rx.recv();
        auto got = co_await recv;
        v = got.value_or(0);
    }
    r->stop();
    { auto drop = std::move(ping_tx); }
    co_await peer;
    *last = v;
}

rt::task<> produce(rt::mpmc::sender<std::uint64_t> tx, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto send = tx.send(i);
        co_await send;
    }
}

rt::task<std::uint64_t> consume(rt::mpmc::receiver<std::uint64_t> rx) {
    std::uint64_t count = 0;
    for (;;) {
        auto recv = rx.recv();
        auto v = co_await recv;
        if (!v)
            co_return count;
        ++count;
    }
}

rt::task<> mpmc_root(std::uint64_t msgs, bench::region* r, std::uint64_t* received) {
    r->start();
    std::vector<rt::join_handle<void>> producers;
    std::vector<rt::join_handle<std::uint64_t>> consumers;
    {
        auto [tx, rx] = rt::mpmc::channel<std::uint64_t>(64);
        for (int i = 0; i < 2; ++i)
            consumers.push_back(rt::spawn(consume(rx)));
        for (int i = 0; i < 2; ++i)
            producers.push_back(rt::spawn(produce(tx, msgs / 2)));
    } // the producers hold the last senders: the channel closes when they finish
    for (auto& p : producers)
        co_await p;
    for (auto& c : consumers) {
        auto n = co_await c;
        *received += n.value_or(0);
    }
    r->stop();
}

rt::task<> mpsc_produce(rt::mpsc::sender<std::uint64_t> tx, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        auto send = tx.send(i);
        if (!co_await send)
            co_return;
    }
}

rt::task<> mpsc_root(std::uint64_t msgs, bench::region* r, std::uint64_t* received) {
    r->start();
    std::vector<rt::join_handle<void>> producers;
    auto [tx, rx] = rt::mpsc::channel<std::uint64_t>(1024);
    for (int i = 0; i < 4; ++i)
        producers.push_back(rt::spawn(mpsc_produce(tx, msgs / 4)));
    { auto drop = std::move(tx); } // the producers hold the last senders
    for (;;) {
        auto recv = rx.recv();
        auto v = co_await recv;
        if (!v)
            break;
        ++*received;
    }
    for (auto& p : producers)
        co_await p;
    r->stop();
}

std::uint64_t resident_bytes() {
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        std::fclose(f);
    }
    return static_cast<std::uint64_t>(resident) * 4096u;
}

rt::task<> wait_on(rt::notify* n) {
    co_await n->notified();
}

rt::task<> memory_root(std::uint64_t idle, double* per_task) {
    rt::notify n;
    std::vector<rt::join_handle<void>> hs;
    hs.reserve(idle);
    std::uint64_t before = resident_bytes();
    for (std::uint64_t i = 0; i < idle; ++i)
        hs.push_back(rt::spawn(wait_on(&n)));
    // Wait until every task has run and registered (idle), then measure.
    co_await rt::sleep(std::chrono::milliseconds(200));
    std::uint64_t after = resident_bytes();
    *per_task = double(after - before) / double(idle);
    n.notify_waiters();
    for (std::uint64_t i = 0; i < idle; ++i)
        n.notify_one(); // any that had not registered yet
    for (auto& h : hs)
        co_await h;
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv,
                     {"recording", "n", "m", "msgs", "idle", "retain_s", "retain_max", "sample"});
    const bool recording = args.get("recording", 1) != 0;
    impl_name = recording ? "on" : "off";
    const std::uint64_t n = std::max<std::uint64_t>(1000, args.get("n", 1'000'000));
    const std::uint64_t m = std::max<std::uint64_t>(100, args.get("m", 1'000'000));
    const std::uint64_t msgs = std::max<std::uint64_t>(2, args.get("msgs", 1'000'000));
    const std::uint64_t idle = std::max<std::uint64_t>(1, args.get("idle", 100'000));
    const unsigned threads = args.threads();
    bench::start_watchdog("overhead", impl_name, args.timeout_s(300));

    auto runtime = rt::runtime::builder()
                       .worker_threads(threads)
                       .introspection(recording)
                       .retain_completed(std::chrono::seconds(args.get("retain_s", 5)),
                                         args.get("retain_max", 1000))
                       .poll_timing_sample(static_cast<std::uint32_t>(args.get("sample", 32)))
                       .build();

    // Memory first, while the allocator has nothing cached from the other workloads.
    double per_task = 0;
    runtime.block_on(bench::on_worker(memory_root(idle, &per_task)));

    bench::region rs;
    std::int64_t sum = 0;
    runtime.block_on(bench::on_worker(spawn_root(n / 1000 * 1000, &rs, &sum)));

    bench::region rp;
    std::uint64_t rounds = 0;
    runtime.block_on(bench::on_worker(pingpong_root(m, &rp, &rounds)));
    if (rounds != m)
        bench::fail("overhead_pingpong", impl_name, "the counter came back wrong");

    bench::region rc;
    std::uint64_t hops = 0;
    runtime.block_on(bench::on_worker(join_chain_root(m / 100, 100, &rc, &hops)));

    bench::region rm;
    std::uint64_t received = 0;
    runtime.block_on(bench::on_worker(mpmc_root(msgs / 2 * 2, &rm, &received)));
    if (received != msgs / 2 * 2)
        bench::fail("overhead_mpmc", impl_name, "lost messages");

    bench::region rq;
    std::uint64_t queued = 0;
    runtime.block_on(bench::on_worker(mpsc_root(msgs / 4 * 4, &rq, &queued)));
    if (queued != msgs / 4 * 4)
        bench::fail("overhead_mpsc", impl_name, "lost messages");

    bench::json_line("overhead_spawn", impl_name)
        .integer("n", n / 1000 * 1000)
        .integer("threads", threads)
        .num("tasks_per_s", double(n / 1000 * 1000) / rs.wall_s())
        .num("wall_s", rs.wall_s())
        .num("cpu_s", rs.cpu_s())
        .print();
    bench::json_line("overhead_pingpong", impl_name)
        .integer("m", rounds)
        .integer("threads", threads)
        .num("rounds_per_s", double(rounds) / rp.wall_s())
        .num("wall_s", rp.wall_s())
        .num("cpu_s", rp.cpu_s())
        .print();
    bench::json_line("overhead_join_chain", impl_name)
        .integer("m", hops)
        .integer("threads", threads)
        .num("hops_per_s", double(hops) / rc.wall_s())
        .num("wall_s", rc.wall_s())
        .num("cpu_s", rc.cpu_s())
        .print();
    bench::json_line("overhead_mpmc", impl_name)
        .integer("m", received)
        .integer("threads", threads)
        .num("msgs_per_s", double(received) / rm.wall_s())
        .num("wall_s", rm.wall_s())
        .num("cpu_s", rm.cpu_s())
        .print();
    bench::json_line("overhead_mpsc", impl_name)
        .integer("m", queued)
        .integer("threads", threads)
        .num("msgs_per_s", double(queued) / rq.wall_s())
        .num("wall_s", rq.wall_s())
        .num("cpu_s", rq.cpu_s())
        .print();
    bench::json_line("overhead_memory", impl_name)
        .integer("n", idle)
        .integer("threads", threads)
        .num("bytes_per_idle_task", per_task)
        .num("header_bytes", double(sizeof(rt::detail::task_header)))
        .print();
}
