// mpmc, rt version: P producer tasks (--producers, default 4) push N messages in all (--n,
// default 10,000,000) through one bounded rt::mpmc channel (--capacity, default 1,024) to C
// consumer tasks (--consumers, default 4).
//
// Shape, identical in mpmc_threads.cpp (std::thread + std::mutex/std::condition_variable ring):
// producer p sends (p << 40 | i) for i in [0, N/P) (the first N % P producers send one more);
// each consumer receives until every sender is gone and returns how many messages it got and
// their sum; the totals are checked against what was sent. Reports msgs/s over the whole transfer
// (spawn of the tasks to the last consumer's end), CPU time and peak RSS. The benchmark is named
// mpmc_<P>to<C>.
//
// Written against the rt::mpmc contract: `auto [tx, rx] = rt::mpmc::channel<T>(capacity)`, sender
// and receiver both copyable, `co_await tx.send(v)` (false-y on failure), `co_await rx.recv()`
// giving std::optional<T> (empty once every sender is gone and the queue is drained).
#include "bench_common.hpp"
#include "rt_common.hpp"

#include <rt/rt.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr const char* impl = "rt";

using message = std::uint64_t;

template <class Sender>
rt::task<> producer(Sender tx, std::uint64_t id, std::uint64_t count, const char* name) {
    for (std::uint64_t i = 0; i < count; ++i) {
        if (!co_await tx.send((id << 40) | i))
            bench::fail(name, impl, "send failed: channel closed");
    }
    { auto done = std::move(tx); } // the stream ends with the last producer, not with its frame
}

struct part {
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
};

template <class Receiver>
rt::task<part> consumer(Receiver rx) {
    part p;
    while (auto m = co_await rx.recv()) {
        ++p.count;
        p.sum += *m;
    }
    co_return p;
}

rt::task<part> root(std::uint64_t n, std::uint64_t producers, std::uint64_t consumers,
                    std::size_t capacity, const char* name, bench::region* r) {
    auto [tx, rx] = rt::mpmc::channel<message>(capacity);
    using sender_t = std::remove_cvref_t<decltype(tx)>;
    using receiver_t = std::remove_cvref_t<decltype(rx)>;
    std::vector<rt::join_handle<part>> cs;
    std::vector<rt::join_handle<void>> ps;
    r->start();
    for (std::uint64_t c = 0; c < consumers; ++c)
        cs.push_back(rt::spawn(consumer<receiver_t>(rx)));
    for (std::uint64_t p = 0; p < producers; ++p)
        ps.push_back(rt::spawn(
            producer<sender_t>(tx, p, n / producers + (p < n % producers ? 1 : 0), name)));
    { auto ours = std::move(tx); } // only the producers' and consumers' copies stay live
    { auto ours = std::move(rx); }
    part total;
    for (auto& h : cs) {
        auto res = co_await h;
        if (!res)
            bench::fail(name, impl, "consumer failed: " + res.error().what());
        total.count += res->count;
        total.sum += res->sum;
    }
    r->stop();
    for (auto& h : ps)
        co_await h;
    co_return total;
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "producers", "consumers", "capacity"});
    const std::uint64_t n = args.get("n", 10'000'000);
    const std::uint64_t producers = std::max<std::uint64_t>(1, args.get("producers", 4));
    const std::uint64_t consumers = std::max<std::uint64_t>(1, args.get("consumers", 4));
    const std::size_t capacity = std::max<std::uint64_t>(1, args.get("capacity", 1024));
    const unsigned threads = args.threads();
    const std::string name = "mpmc_" + std::to_string(producers) + "to" + std::to_string(consumers);
    bench::start_watchdog(name.c_str(), impl, args.timeout_s(300));

    auto runtime = rt::runtime::builder().worker_threads(threads).build();
    bench::region r;
    part got = runtime.block_on(
        bench::on_worker(root(n, producers, consumers, capacity, name.c_str(), &r)));

    std::uint64_t want = 0;
    for (std::uint64_t p = 0; p < producers; ++p) {
        const std::uint64_t count = n / producers + (p < n % producers ? 1 : 0);
        want += (p << 40) * count + count * (count - 1) / 2;
    }
    if (got.count != n || got.sum != want)
        bench::fail(name.c_str(), impl,
                    "received " + std::to_string(got.count) + " messages (want " +
                        std::to_string(n) + "), sum " + std::to_string(got.sum) + " (want " +
                        std::to_string(want) + ")");
    bench::json_line(name.c_str(), impl)
        .integer("n", n)
        .integer("producers", producers)
        .integer("consumers", consumers)
        .integer("capacity", capacity)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("msgs_per_s", double(n) / r.wall_s())
        .print();
}
