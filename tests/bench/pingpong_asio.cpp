// ping-pong between two tasks, Boost.Asio version: the same program as pingpong_rt.cpp.
//
// Two coroutines on one io_context (--threads threads) pass a counter through two one-value
// mailboxes (bench::asio::mailbox; Boost 1.74 has no channel): the pinger sends n and waits for
// the reply, the ponger receives it and sends n + 1 back. One round = two messages and two
// wake-ups, each a handler posted to the io_context. --m rounds (default 1,000,000). Reports
// rounds/s and, over batches of 1,000 rounds, the time per round as p50/p99. The final counter
// is checked.
#include "asio_common.hpp"

#include <cstdint>
#include <vector>

namespace {

constexpr const char* bench_name = "pingpong";
constexpr std::uint64_t batch = 1000;

namespace net = boost::asio;
using net::awaitable;

// A round's value; `stop` ends the ponger.
struct token {
    std::uint64_t value = 0;
    bool stop = false;
};

awaitable<void> ponger(bench::asio::mailbox<token>* in, bench::asio::mailbox<token>* out) {
    for (;;) {
        token t = co_await in->recv();
        if (t.stop)
            co_return;
        out->send(token{t.value + 1, false});
    }
}

struct result {
    std::uint64_t last = 0;
    std::vector<double> round_ns;
};

awaitable<void> pinger(std::uint64_t rounds, result* out, bench::region* r) {
    auto ex = co_await net::this_coro::executor;
    bench::asio::mailbox<token> ping, pong;
    auto peer = bench::asio::spawn(ex, ponger(&ping, &pong));
    out->round_ns.reserve(rounds / batch + 1);
    std::uint64_t v = 0;
    r->start();
    for (std::uint64_t done = 0; done < rounds;) {
        const std::uint64_t n = std::min(batch, rounds - done);
        const auto t0 = bench::clock::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            ping.send(token{v, false});
            token t = co_await pong.recv();
            v = t.value;
        }
        out->round_ns.push_back(
            std::chrono::duration<double, std::nano>(bench::clock::now() - t0).count() / double(n));
        done += n;
    }
    r->stop();
    ping.send(token{0, true});
    co_await peer.join();
    out->last = v;
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"m"});
    const std::uint64_t rounds = std::max<std::uint64_t>(1, args.get("m", 1'000'000));
    const unsigned threads = args.threads();
    bench::start_watchdog(bench_name, "asio", args.timeout_s(300));

    result res;
    bench::region r;
    bench::asio::run(bench_name, threads, pinger(rounds, &res, &r));
    if (res.last != rounds)
        bench::fail(bench_name, "asio", "the counter came back wrong");
    bench::json_line(bench_name, "asio")
        .integer("m", rounds)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("rounds_per_s", double(rounds) / r.wall_s())
        .num("round_p50_ns", bench::percentile(res.round_ns, 50))
        .num("round_p99_ns", bench::percentile(res.round_ns, 99))
        .print();
}
