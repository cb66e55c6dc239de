// TCP over the reactor: echo, many connections, half-close, errors, cancel-safety, big transfers.
#include "io_backends.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using rt_test::bytes;
using rt_test::text;

namespace {

class net_tcp : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(net_tcp);

// Echoes until the peer closes; returns the bytes echoed.
rt::task<std::size_t> echo(rt::net::tcp_stream s) {
    std::array<std::byte, 4096> buf;
    std::size_t total = 0;
    for (;;) {
        auto n = co_await s.read(buf);
        if (!n || *n == 0)
            co_return total;
        auto w = co_await s.write_all(std::span<const std::byte>(buf.data(), *n));
        if (!w)
            co_return total;
        total += *n;
    }
}

rt::task<> serve(rt::net::tcp_listener* l, int connections) {
    for (int i = 0; i < connections; ++i) {
        auto c = co_await l->accept();
        if (!c) {
            ADD_FAILURE() << "accept: " << c.error().message();
            co_return;
        }
        rt::spawn(echo(std::move(c->first)));
    }
}

rt::task<> echo_round_trip(std::string bind_addr) {
    auto l = rt::net::tcp_listener::bind(bind_addr);
    EXPECT_TRUE(l) << bind_addr;
    if (!l)
        co_return;
    auto addr = l->local_addr();
    EXPECT_TRUE(addr);
    EXPECT_NE(addr->port(), 0);
    auto server = rt::spawn(serve(&*l, 1));
    auto s = co_await rt::net::tcp_stream::connect(addr->to_string());
    EXPECT_TRUE(s) << s.error().message();
    if (!s)
        co_return;
    EXPECT_TRUE(s->set_nodelay(true));
    EXPECT_EQ(*s->nodelay(), true);
    EXPECT_EQ(s->peer_addr()->to_string(), addr->to_string());
    for (int i = 0; i < 100; ++i) {
        std::string msg = "message " + std::to_string(i);
        EXPECT_TRUE(co_await s->write_all(msg));
        std::vector<std::byte> back(msg.size());
        auto r = co_await s->read_exact(back);
        EXPECT_TRUE(r);
        EXPECT_EQ(text(back), msg);
    }
    co_await server;
}

TEST_P(net_tcp, echo_round_trips_over_ipv4) {
    auto r = make_runtime();
    r.block_on(echo_round_trip("127.0.0.1:0"));
}

TEST_P(net_tcp, echo_round_trips_over_ipv6) {
    auto r = make_runtime();
    r.block_on(echo_round_trip("[::1]:0"));
}

TEST_P(net_tcp, accept_reports_the_peer_address) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto port = l->local_addr()->port();
        auto accepting = l->accept();
        auto h = rt::spawn(std::move(accepting));
        std::string target = "127.0.0.1:" + std::to_string(port);
        auto s = co_await rt::net::tcp_stream::connect(target);
        EXPECT_TRUE(s);
        auto c = co_await h;
        EXPECT_TRUE(c && *c);
        EXPECT_EQ((*c)->second, *s->local_addr());
    }());
}

rt::task<bool> one_client(rt::net::socket_address addr, int id) {
    auto s = co_await rt::net::tcp_stream::connect(addr);
    if (!s)
        co_return false;
    std::string msg = "client-" + std::to_string(id) + "-payload";
    if (!co_await s->write_all(msg))
        co_return false;
    std::vector<std::byte> back(msg.size());
    if (!co_await s->read_exact(back))
        co_return false;
    co_return text(back) == msg;
}

constexpr int thousand = 1000;

TEST_P(net_tcp, a_thousand_concurrent_connections_all_echo) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        auto server = rt::spawn(serve(&*l, thousand));
        std::vector<rt::join_handle<bool>> clients;
        for (int i = 0; i < thousand; ++i)
            clients.push_back(rt::spawn(one_client(addr, i)));
        int ok = 0;
        for (auto& c : clients) {
            auto v = co_await c;
            ok += (v && *v) ? 1 : 0;
        }
        EXPECT_EQ(ok, thousand);
        co_await server;
    }());
}

TEST_P(net_tcp, half_close_delivers_eof_and_keeps_the_other_direction) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        // Server: read everything until EOF, then answer with the byte count and close.
        auto server = rt::spawn([](rt::net::tcp_listener* listener) -> rt::task<> {
            auto c = co_await listener->accept();
            auto& s = c->first;
            std::string got;
            std::array<std::byte, 100> buf;
            for (;;) {
                auto n = co_await s.read(buf);
                EXPECT_TRUE(n);
                if (!n || *n == 0)
                    break;
                got += text(std::span(buf.data(), *n));
            }
            EXPECT_EQ(got, "abcdef");
            std::string reply = "got " + std::to_string(got.size());
            EXPECT_TRUE(co_await s.write_all(reply));
        }(&*l));
        auto s = co_await rt::net::tcp_stream::connect(addr);
        EXPECT_TRUE(co_await s->write_all("abc"));
        EXPECT_TRUE(co_await s->write_all("def"));
        EXPECT_TRUE(s->shutdown(rt::net::shutdown_mode::write));
        std::string reply;
        std::array<std::byte, 100> buf;
        for (;;) {
            auto n = co_await s->read(buf);
            EXPECT_TRUE(n);
            if (!n || *n == 0)
                break;
            reply += text(std::span(buf.data(), *n));
        }
        EXPECT_EQ(reply, "got 6");
        auto w = co_await s->write_all("after shutdown");
        EXPECT_FALSE(w);
        if (!w) {
            EXPECT_EQ(w.error(), std::errc::broken_pipe);
        }
        co_await server;
    }());
}

TEST_P(net_tcp, connection_refused_is_an_error_value) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        std::string addr;
        {
            auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
            addr = l->local_addr()->to_string();
        } // closed: nothing listens there now
        auto s = co_await rt::net::tcp_stream::connect(addr);
        EXPECT_FALSE(s);
        if (!s) {
            EXPECT_EQ(s.error(), std::errc::connection_refused) << s.error().message();
        }
    }());
}

TEST_P(net_tcp, unknown_host_is_an_error_value) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto s = co_await rt::net::tcp_stream::connect("no-such-host.invalid:80");
        EXPECT_FALSE(s);
        if (!s) {
            EXPECT_EQ(&s.error().category(), &rt::net::resolve_category()) << s.error().message();
        }
        auto bad = rt::net::tcp_listener::bind("not an address");
        EXPECT_FALSE(bad);
        if (!bad) {
            EXPECT_EQ(bad.error(), std::errc::invalid_argument);
        }
    }());
}

TEST_P(net_tcp, a_timed_out_read_loses_no_data) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        auto accepting = l->accept();
        auto acc = rt::spawn(std::move(accepting));
        auto client = co_await rt::net::tcp_stream::connect(addr);
        auto server = co_await acc;
        auto& peer = (*server)->first;
        std::array<std::byte, 64> buf;
        // Nothing was sent: the read times out and is dropped.
        auto first = client->read(buf);
        auto timed = co_await rt::timeout(20ms, std::move(first));
        EXPECT_FALSE(timed);
        EXPECT_TRUE(co_await peer.write_all("hello"));
        auto second = co_await client->read(buf);
        EXPECT_TRUE(second);
        EXPECT_EQ(text(std::span(buf.data(), *second)), "hello");
    }());
}

// Many short timeouts race the writer: whichever wins, a dropped read must have consumed nothing,
// so the reader sees every byte exactly once, in order.
constexpr int racing_bytes = 2000;

TEST_P(net_tcp, reads_raced_by_timeouts_see_every_byte_once) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        auto accepting = l->accept();
        auto acc = rt::spawn(std::move(accepting));
        auto client = co_await rt::net::tcp_stream::connect(addr);
        auto server = co_await acc;
        auto writer = rt::spawn([](rt::net::tcp_stream s) -> rt::task<> {
            for (int i = 0; i < racing_bytes; ++i) {
                std::byte b{static_cast<unsigned char>(i % 251)};
                EXPECT_TRUE(co_await s.write_all(std::span<const std::byte>(&b, 1)));
                if (i % 7 == 0)
                    co_await rt::sleep(1ms);
            }
        }(std::move((*server)->first)));
        int received = 0, timeouts = 0;
        std::array<std::byte, 3> buf;
        while (received < racing_bytes) {
            auto rd = client->read(buf);
            auto res = co_await rt::timeout(1ms, std::move(rd));
            if (!res) {
                ++timeouts;
                continue;
            }
            EXPECT_TRUE(*res);
            EXPECT_GT(**res, 0u);
            for (std::size_t i = 0; i < **res; ++i, ++received)
                EXPECT_EQ(buf[i], std::byte{static_cast<unsigned char>(received % 251)});
        }
        EXPECT_EQ(received, racing_bytes);
        EXPECT_GT(timeouts, 0);
        co_await writer;
    }());
}

// A read that returns less than asked forgets the stream's readiness (no read just to hear
// EAGAIN); bytes that arrive after it must still wake the next read. The writer sends bursts in
// random pieces and waits for the reader's acknowledgement after each, so the last piece of a
// burst that raced a read and lost its wake-up would leave the reader waiting for good: a read
// times out. Random read sizes mix short reads, full reads and reads racing new data.
TEST_P(net_tcp, random_sized_reads_and_writes_lose_no_wake_up) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        auto acc = rt::spawn(l->accept());
        auto client = co_await rt::net::tcp_stream::connect(addr);
        auto server = co_await acc;
        RT_CO_ASSERT(client && server && *server);
        client->set_nodelay(true); // the acknowledgements are single bytes: no Nagle delay
        (*server)->first.set_nodelay(true);
        constexpr int rounds = 1500;
        auto burst_size = [](int round) { return 1 + (round * 2654435761u >> 7) % 12000; };
        auto writer = rt::spawn([](rt::net::tcp_stream s, auto size_of) -> rt::task<> {
            std::uint32_t rng = 12345;
            std::vector<std::byte> data(3000);
            std::size_t sent = 0;
            for (int round = 0; round < rounds; ++round) {
                std::size_t left = size_of(round);
                while (left > 0) {
                    rng = rng * 1664525u + 1013904223u;
                    std::size_t n = std::min<std::size_t>(1 + (rng >> 8) % data.size(), left);
                    for (std::size_t i = 0; i < n; ++i)
                        data[i] = std::byte{static_cast<unsigned char>((sent + i) % 253)};
                    RT_CO_ASSERT(co_await s.write_all(std::span<const std::byte>(data.data(), n)));
                    sent += n;
                    left -= n;
                    if ((rng >> 4) % 8 == 0)
                        co_await rt::yield_now();
                }
                std::array<std::byte, 1> ack;
                RT_CO_ASSERT(co_await s.read_exact(ack));
            }
        }(std::move((*server)->first), burst_size));
        std::uint32_t rng = 777;
        std::vector<std::byte> buf(6000);
        std::size_t got = 0;
        bool same = true;
        int short_reads = 0;
        for (int round = 0; round < rounds; ++round) {
            std::size_t left = burst_size(round);
            while (left > 0) {
                rng = rng * 1664525u + 1013904223u;
                // May ask for more than the burst has left: the writer sends no more before
                // the acknowledgement, so such a read is short, and the next burst must wake
                // the read after it.
                std::size_t want = 1 + (rng >> 8) % buf.size();
                auto res = co_await rt::timeout(5s, client->read(std::span(buf).first(want)));
                RT_CO_ASSERT(res.has_value()); // else a wake-up was lost
                RT_CO_ASSERT(*res && **res > 0);
                short_reads += **res < want ? 1 : 0;
                for (std::size_t i = 0; i < **res; ++i)
                    same = same && buf[i] == std::byte{static_cast<unsigned char>((got + i) % 253)};
                RT_CO_ASSERT(**res <= left);
                got += **res;
                left -= **res;
            }
            RT_CO_ASSERT(co_await client->write_all(bytes("k")));
        }
        EXPECT_TRUE(same);
        EXPECT_GT(short_reads, 0);
        co_await writer;
    }());
}

constexpr std::size_t big_size = 64u << 20;

TEST_P(net_tcp, a_64_mib_transfer_survives_partial_writes) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        auto accepting = l->accept();
        auto acc = rt::spawn(std::move(accepting));
        auto client = co_await rt::net::tcp_stream::connect(addr);
        auto server = co_await acc;
        // Writer: single write() calls of up to 4 MiB, so the socket buffer forces short ones.
        auto writer = rt::spawn([](rt::net::tcp_stream s) -> rt::task<int> {
            std::vector<std::byte> data(big_size);
            for (std::size_t i = 0; i < big_size; ++i)
                data[i] = std::byte{static_cast<unsigned char>((i * 131) >> 3)};
            std::size_t off = 0;
            int partial = 0;
            while (off < big_size) {
                std::size_t want = std::min<std::size_t>(4u << 20, big_size - off);
                auto n = co_await s.write(std::span<const std::byte>(data.data() + off, want));
                EXPECT_TRUE(n);
                if (!n)
                    co_return partial;
                partial += *n < want ? 1 : 0;
                off += *n;
            }
            co_return partial;
        }(std::move((*server)->first)));
        std::vector<std::byte> chunk(1u << 20);
        std::size_t got = 0;
        bool same = true;
        while (got < big_size) {
            auto rr = co_await client->read_exact(chunk);
            EXPECT_TRUE(rr);
            if (!rr)
                break;
            for (std::size_t i = 0; i < chunk.size(); ++i)
                same = same &&
                       chunk[i] == std::byte{static_cast<unsigned char>(((got + i) * 131) >> 3)};
            got += chunk.size();
        }
        EXPECT_TRUE(same);
        EXPECT_EQ(got, big_size);
        auto partial = co_await writer;
        EXPECT_GT(*partial, 0);
        std::array<std::byte, 1> one;
        auto eof = co_await client->read(one);
        EXPECT_TRUE(eof);
        EXPECT_EQ(*eof, 0u);
    }());
}

// Workers take I/O events themselves while they are awake, and the reactor then does not watch
// for them; a worker stuck in one long poll must not hold them back from the parked others.
TEST_P(net_tcp, a_worker_stuck_in_a_long_poll_does_not_hold_io_events_back) {
    auto r = make_runtime(2);
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto addr = *l->local_addr();
        auto reader = rt::spawn([](rt::net::tcp_listener* listener) -> rt::task<> {
            auto c = co_await listener->accept();
            EXPECT_TRUE(c);
            if (!c)
                co_return;
            std::array<std::byte, 2> b;
            EXPECT_TRUE(co_await c->first.read_exact(b));
        }(&*l));
        auto s = co_await rt::net::tcp_stream::connect(addr);
        EXPECT_TRUE(s);
        co_await rt::sleep(std::chrono::milliseconds(20));
        // Occupy one worker (bounded, in case of a bug), then send one byte: the reactor takes
        // that event and, a worker being awake, stops watching.
        std::atomic<bool> release{false};
        auto stuck = rt::spawn([](std::atomic<bool>* rel) -> rt::task<> {
            auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
            while (!rel->load() && std::chrono::steady_clock::now() < until)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            co_return;
        }(&release));
        co_await rt::sleep(std::chrono::milliseconds(20));
        EXPECT_TRUE(co_await s->write_all("x"));
        co_await rt::sleep(std::chrono::milliseconds(20));
        // Nobody harvests now but the stuck worker: the reactor must notice and watch again.
        auto start = std::chrono::steady_clock::now();
        EXPECT_TRUE(co_await s->write_all("y"));
        co_await reader;
        auto took = std::chrono::steady_clock::now() - start;
        release.store(true);
        co_await stuck;
        EXPECT_LT(took, std::chrono::seconds(1));
    }());
}

} // namespace
