// TCP echo without a runtime: the ceiling the echo benchmark can reach on this machine with this
// load generator. It is the least a server can do per request: --threads loops (default: cores
// - 1, as echo_rt), each with its own edge-triggered epoll set and a share of the connections;
// per event one read(2) into a 4 KiB buffer (a short read drained the socket, so no read that
// only answers EAGAIN), one write(2) of what came. No tasks, no wakes, no cross-thread hand-off,
// no timers. rt is compared with it in run.sh's "echo_ceiling" row: the ratio is how much of
// the machine rt leaves on the table, where echo_asio is the ratio to another runtime.
#include "bench_common.hpp"
#include "echo_load.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <poll.h>
#include <thread>
#include <vector>

namespace {

constexpr const char* bench_name = "echo";

// Writes all of buf[0, n) to the non-blocking fd; waits with poll(2) when the buffer is full
// (64-byte echoes never get there). False when the connection is gone.
bool write_all(int fd, const char* buf, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0)
            return false;
        buf += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// One loop's connections until all are closed by the client (or `stop`).
void serve(int ep, std::size_t conns, std::size_t bufsize, const std::atomic<bool>& stop) {
    std::vector<char> buf(bufsize);
    epoll_event evs[256];
    std::size_t open = conns;
    while (open > 0 && !stop.load(std::memory_order_relaxed)) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; ++k) {
            const int fd = evs[k].data.fd;
            for (;;) {
                ssize_t r = ::read(fd, buf.data(), buf.size());
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r <= 0 || !write_all(fd, buf.data(), static_cast<std::size_t>(r))) {
                    ::close(fd);
                    --open;
                    break;
                }
                if (static_cast<std::size_t>(r) < buf.size())
                    break; // drained: epoll reports the next bytes
            }
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"conns", "requests", "size", "load-port"});
    const std::size_t conns = std::max<std::uint64_t>(1, args.get("conns", 64));
    const std::uint64_t requests = std::max<std::uint64_t>(1, args.get("requests", 1'000'000));
    const std::size_t size = std::max<std::uint64_t>(1, args.get("size", 64));
    if (auto port = args.get("load-port", 0))
        return bench::echo::run_load(static_cast<std::uint16_t>(port), conns, requests, size);
    const unsigned threads = std::max(1u, args.threads_beside_load());
    bench::start_watchdog(bench_name, "raw", args.timeout_s(300));

    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listener, 1024) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
        bench::fail(bench_name, "raw", "listen failed");
    bench::region r;
    r.start();
    auto child = bench::echo::spawn_load(argv[0], ntohs(sa.sin_port), conns, requests, size);
    std::vector<int> eps(threads);
    std::vector<std::size_t> share(threads);
    for (auto& ep : eps)
        ep = epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < conns; ++i) {
        int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            bench::fail(bench_name, "raw", "accept failed");
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        epoll_ctl(eps[i % threads], EPOLL_CTL_ADD, fd, &ev);
        ++share[i % threads];
    }
    std::atomic<bool> stop{false};
    const std::size_t bufsize = bench::echo::buffer_size(size);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { serve(eps[t], share[t], bufsize, stop); });
    bench::echo::load_result res;
    const bool ok = bench::echo::wait_load(child, res);
    r.stop();
    stop.store(true, std::memory_order_relaxed);
    for (auto& t : pool)
        t.join();
    if (!ok || res.requests != requests)
        bench::fail(bench_name, "raw", "the load generator failed");
    bench::echo::result_line("raw", conns, size, requests, threads, res, r.cpu_s()).print();
}
