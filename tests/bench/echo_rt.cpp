// TCP echo, rt version: C connections (--conns, default 64) from the shared load generator
// (echo_load.hpp, its own process) send --size-byte requests (default 64) in a closed loop until
// --requests (default 1,000,000) are answered. Each connection is one task, the canonical echo:
// read into a buffer of max(--size, 4 KiB), then write_all what came. Workers: --threads
// (default: cores - 1, as the load generator takes a core). --uring 1 runs the io_uring backend
// instead of epoll. Reports requests/s, payload MB/s (one direction), the client-side round-trip
// p50/p99, and the reactor latency p50/p99 (an I/O event's wake to the woken task's poll, from
// the runtime's introspection histogram).
// echo_asio.cpp is the same server on Boost.Asio.
#include "bench_common.hpp"
#include "echo_load.hpp"

#include <rt/rt.hpp>

#include <span>
#include <vector>

namespace {

constexpr const char* bench_name = "echo";

rt::task<> serve(rt::net::tcp_stream s, std::size_t size) {
    s.set_nodelay(true);
    std::vector<std::byte> buf(bench::echo::buffer_size(size));
    for (;;) {
        auto n = co_await s.read(buf);
        if (!n || *n == 0)
            co_return; // the client closed
        if (!co_await s.write_all(std::span(buf).first(*n)))
            co_return;
    }
}

rt::task<> accept_all(rt::net::tcp_listener* l, std::size_t conns, std::size_t size) {
    for (std::size_t i = 0; i < conns; ++i) {
        auto c = co_await l->accept();
        if (!c)
            bench::fail(bench_name, "rt", "accept: " + c.error().message());
        rt::spawn(serve(std::move(c->first), size), {.name = "echo-conn"});
    }
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"conns", "requests", "size", "uring", "load-port"});
    const std::size_t conns = std::max<std::uint64_t>(1, args.get("conns", 64));
    const std::uint64_t requests = std::max<std::uint64_t>(1, args.get("requests", 1'000'000));
    const std::size_t size = std::max<std::uint64_t>(1, args.get("size", 64));
    if (auto port = args.get("load-port", 0))
        return bench::echo::run_load(static_cast<std::uint16_t>(port), conns, requests, size);
    const bool uring = args.get("uring", 0) != 0;
    const unsigned threads = args.threads_beside_load();
    bench::start_watchdog(bench_name, "rt", args.timeout_s(300));

    auto runtime = rt::runtime::builder()
                       .worker_threads(threads)
                       .io_backend(uring ? rt::io_backend::io_uring : rt::io_backend::epoll)
                       .build();
    rt::net::tcp_listener listener;
    std::uint16_t port = 0;
    runtime.block_on([](rt::net::tcp_listener* l, std::uint16_t* p) -> rt::task<> {
        auto b = rt::net::tcp_listener::bind("127.0.0.1:0");
        if (!b)
            bench::fail(bench_name, "rt", "bind: " + b.error().message());
        *l = std::move(*b);
        *p = l->local_addr()->port();
        co_return;
    }(&listener, &port));
    bench::region r;
    r.start();
    auto child = bench::echo::spawn_load(argv[0], port, conns, requests, size);
    runtime.block_on(accept_all(&listener, conns, size));
    // The connection tasks keep serving on the workers while this thread waits for the client.
    bench::echo::load_result res;
    const bool ok = bench::echo::wait_load(child, res);
    r.stop();
    if (!ok || res.requests != requests)
        bench::fail(bench_name, "rt", "the load generator failed");
    // Reactor latency: from the wake an I/O event caused (on the reactor thread, or on a worker
    // that took the event itself) to the start of the woken task's poll, over the whole run.
    const auto snap = runtime.snapshot();
    const auto& ev = snap.reactor.event_to_poll;
    std::uint64_t parks = 0, polls = 0;
    for (const auto& w : snap.workers) {
        parks += w.parks;
        polls += w.polls;
    }
    bench::echo::result_line("rt", conns, size, requests, threads, res, r.cpu_s())
        .integer("uring", runtime.io_backend() == rt::io_backend::io_uring ? 1 : 0)
        .num("reactor_p50_us", double(ev.quantile(0.50)) / 1e3)
        .num("reactor_p99_us", double(ev.quantile(0.99)) / 1e3)
        .integer("reactor_events", ev.count())
        .integer("reactor_thread_wakes", snap.reactor.io_events)
        .integer("reactor_iterations", snap.reactor.iterations)
        .integer("worker_polls", polls)
        .integer("worker_parks", parks)
        .print();
    // Destroying the listener before the runtime (I/O objects must not outlive it).
    listener = rt::net::tcp_listener();
}
