// TCP echo, rt version: C connections (--conns, default 64) from the shared load generator
// (echo_load.hpp, its own process) send --size-byte requests (default 64) in a closed loop until
// --requests (default 1,000,000) are answered. Each connection is one task: read_exact, then
// write_all. --uring 1 runs the io_uring backend instead of epoll. Reports requests/s and the
// client-side round-trip p50/p99. echo_asio.cpp is the same server on Boost.Asio.
#include "bench_common.hpp"
#include "echo_load.hpp"

#include <rt/rt.hpp>

#include <vector>

namespace {

constexpr const char* bench_name = "echo";

rt::task<> serve(rt::net::tcp_stream s, std::size_t size) {
    s.set_nodelay(true);
    std::vector<std::byte> buf(size);
    for (;;) {
        if (!co_await s.read_exact(buf))
            co_return; // the client closed
        if (!co_await s.write_all(buf))
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
    const unsigned threads = args.threads();
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
    bench::json_line(bench_name, "rt")
        .integer("conns", conns)
        .integer("size", size)
        .integer("requests", requests)
        .integer("threads", threads)
        .integer("uring", runtime.io_backend() == rt::io_backend::io_uring ? 1 : 0)
        .num("wall_s", res.wall_s)
        .num("cpu_s", r.cpu_s())
        .num("requests_per_s", double(requests) / res.wall_s)
        .num("rtt_p50_us", res.p50_us)
        .num("rtt_p99_us", res.p99_us)
        .print();
    // Destroying the listener before the runtime (I/O objects must not outlive it).
    listener = rt::net::tcp_listener();
}
