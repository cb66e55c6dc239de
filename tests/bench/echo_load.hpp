// The TCP echo benchmark's load generator, shared by echo_rt and echo_asio so that both servers
// face exactly the same client: plain POSIX, one thread, epoll, in a process of its own.
//
// The server program starts it with spawn_load() (posix_spawn of its own executable with
// `--load-port P`), which opens C connections to 127.0.0.1:P and runs a closed loop: each
// connection sends a `size`-byte request, waits for the whole echo, records the round trip, and
// sends the next, until N requests are done in total (bounded in count; the watchdog bounds the
// time). It then prints "requests wall_s p50_us p99_us" on its stdout, which is a pipe the
// server reads with wait_load().
#pragma once

#include "bench_common.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace bench::echo {

// The servers' read buffer: the canonical echo reads what is there, up to 4 KiB (or the message
// size when larger), and writes it back.
inline std::size_t buffer_size(std::size_t message_size) {
    return std::max<std::size_t>(message_size, 4096);
}

struct load_result {
    std::uint64_t requests = 0;
    double wall_s = 0, p50_us = 0, p99_us = 0;
};

// The child's main: returns the process exit status.
//
// Per request it costs one send and one recv for small sizes: epoll is level-triggered, so after
// a complete echo the connection is not read again until epoll reports it (no recv that only
// answers EAGAIN). Large requests may not fit the socket buffer: the rest is sent when epoll
// reports the connection writable.
inline int run_load(std::uint16_t port, std::size_t conns, std::uint64_t requests,
                    std::size_t size) {
    struct conn {
        int fd = -1;
        std::size_t got = 0;   // bytes of the echo received
        std::size_t put = 0;   // bytes of the request sent
        bool want_out = false; // registered for EPOLLOUT (a request is partly sent)
        clock::time_point sent;
    };
    std::vector<conn> cs(conns);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (std::size_t i = 0; i < conns; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
            std::perror("load generator: connect");
            return 1;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        cs[i].fd = fd;
    }
    std::vector<char> req(size, 'x'), buf(size);
    std::vector<double> lat;
    lat.reserve(requests);
    std::uint64_t sent = 0, done = 0;
    auto watch = [&](std::size_t i, bool out) {
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? static_cast<std::uint32_t>(EPOLLOUT) : 0u);
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_MOD, cs[i].fd, &ev);
        cs[i].want_out = out;
    };
    auto send_rest = [&](std::size_t i) {
        conn& c = cs[i];
        while (c.put < size) {
            ssize_t n = ::send(c.fd, req.data() + c.put, size - c.put, MSG_NOSIGNAL);
            if (n < 0 && errno == EAGAIN)
                break;
            if (n < 0) {
                std::perror("load generator: send");
                std::exit(1);
            }
            c.put += static_cast<std::size_t>(n);
        }
        if ((c.put < size) != c.want_out)
            watch(i, c.put < size);
    };
    auto send_one = [&](std::size_t i) {
        cs[i].got = 0;
        cs[i].put = 0;
        cs[i].sent = clock::now();
        ++sent;
        send_rest(i);
    };
    const auto t0 = clock::now();
    for (std::size_t i = 0; i < conns && sent < requests; ++i)
        send_one(i);
    epoll_event evs[256];
    while (done < requests) {
        int n = epoll_wait(ep, evs, 256, 10'000);
        if (n <= 0) {
            std::fprintf(stderr, "load generator: no reply for 10 s\n");
            return 1;
        }
        for (int k = 0; k < n; ++k) {
            const std::size_t i = evs[k].data.u64;
            conn& c = cs[i];
            if ((evs[k].events & EPOLLOUT) && c.put < size)
                send_rest(i);
            if (!(evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
                continue;
            for (;;) {
                ssize_t r = ::recv(c.fd, buf.data(), size - c.got, 0);
                if (r < 0 && errno == EAGAIN)
                    break;
                if (r <= 0) {
                    std::fprintf(stderr, "load generator: connection closed\n");
                    return 1;
                }
                c.got += static_cast<std::size_t>(r);
                if (c.got < size)
                    continue;
                lat.push_back(
                    std::chrono::duration<double, std::micro>(clock::now() - c.sent).count());
                ++done;
                if (sent < requests)
                    send_one(i);
                break; // level-triggered: epoll reports the connection again when it has more
            }
        }
    }
    const double wall = std::chrono::duration<double>(clock::now() - t0).count();
    for (auto& c : cs)
        ::close(c.fd);
    std::printf("%llu %.6f %.3f %.3f\n", static_cast<unsigned long long>(done), wall,
                percentile(lat, 50), percentile(lat, 99));
    return 0;
}

// The start of the JSON line every echo server prints: its configuration and the load
// generator's figures. The caller adds its own and prints it.
inline json_line result_line(const char* impl, std::size_t conns, std::size_t size,
                             std::uint64_t requests, unsigned threads, const load_result& res,
                             double cpu_s) {
    json_line j("echo", impl);
    j.integer("conns", conns)
        .integer("size", size)
        .integer("requests", requests)
        .integer("threads", threads)
        .num("wall_s", res.wall_s)
        .num("cpu_s", cpu_s)
        .num("requests_per_s", double(requests) / res.wall_s)
        .num("mb_per_s", double(requests) * double(size) / res.wall_s / 1e6)
        .num("rtt_p50_us", res.p50_us)
        .num("rtt_p99_us", res.p99_us);
    return j;
}

struct load_child {
    pid_t pid = -1;
    int out = -1; // read end of the child's stdout
};

inline load_child spawn_load(const char* self, std::uint16_t port, std::size_t conns,
                             std::uint64_t requests, std::size_t size) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        fail("echo", "?", "pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    std::vector<std::string> a{self,
                               "--load-port",
                               std::to_string(port),
                               "--conns",
                               std::to_string(conns),
                               "--requests",
                               std::to_string(requests),
                               "--size",
                               std::to_string(size)};
    std::vector<char*> argv;
    for (auto& s : a)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    load_child c;
    if (posix_spawn(&c.pid, self, &fa, nullptr, argv.data(), environ) != 0)
        fail("echo", "?", "posix_spawn failed");
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    c.out = p[0];
    return c;
}

// Blocks until the load generator is done; false when it failed.
inline bool wait_load(load_child& c, load_result& r) {
    std::string text;
    char b[256];
    for (;;) {
        ssize_t n = ::read(c.out, b, sizeof b);
        if (n <= 0)
            break;
        text.append(b, static_cast<std::size_t>(n));
    }
    ::close(c.out);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    unsigned long long req = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        std::sscanf(text.c_str(), "%llu %lf %lf %lf", &req, &r.wall_s, &r.p50_us, &r.p99_us) != 4)
        return false;
    r.requests = req;
    return true;
}

} // namespace bench::echo
