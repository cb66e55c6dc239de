// TCP echo, Boost.Asio version of echo_rt.cpp: the same load generator (echo_load.hpp), one
// coroutine per connection (async_read_some into a buffer of max(--size, 4 KiB), then
// async_write of what came), an io_context run by --threads threads (default: cores - 1).
#include "bench_common.hpp"
#include "echo_load.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <thread>
#include <vector>

namespace {

constexpr const char* bench_name = "echo";
namespace net = boost::asio;
using net::ip::tcp;

net::awaitable<void> serve(tcp::socket s, std::size_t size) {
    s.set_option(tcp::no_delay(true));
    std::vector<char> buf(bench::echo::buffer_size(size));
    boost::system::error_code ec;
    for (;;) {
        std::size_t n = co_await s.async_read_some(net::buffer(buf),
                                                   net::redirect_error(net::use_awaitable, ec));
        if (ec)
            co_return;
        co_await net::async_write(s, net::buffer(buf.data(), n),
                                  net::redirect_error(net::use_awaitable, ec));
        if (ec)
            co_return;
    }
}

net::awaitable<void> accept_all(tcp::acceptor* a, std::size_t conns, std::size_t size) {
    for (std::size_t i = 0; i < conns; ++i) {
        tcp::socket s = co_await a->async_accept(net::use_awaitable);
        net::co_spawn(a->get_executor(), serve(std::move(s), size), net::detached);
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
    const unsigned threads = args.threads_beside_load();
    bench::start_watchdog(bench_name, "asio", args.timeout_s(300));

    net::io_context ctx(static_cast<int>(threads));
    tcp::acceptor acceptor(ctx, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    auto guard = net::make_work_guard(ctx);
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i)
        pool.emplace_back([&ctx] { ctx.run(); });
    bench::region r;
    r.start();
    auto child = bench::echo::spawn_load(argv[0], port, conns, requests, size);
    net::co_spawn(ctx, accept_all(&acceptor, conns, size), net::detached);
    bench::echo::load_result res;
    const bool ok = bench::echo::wait_load(child, res);
    r.stop();
    guard.reset();
    ctx.stop();
    for (auto& t : pool)
        t.join();
    if (!ok || res.requests != requests)
        bench::fail(bench_name, "asio", "the load generator failed");
    bench::echo::result_line("asio", conns, size, requests, threads, res, r.cpu_s()).print();
}
