// Cancel-safety of stream reads and writes on both backends: reads dropped by timeout or abort
// while the kernel may be delivering bytes (on io_uring: a RECV in flight on the ring, cancelled
// when the await is dropped) lose nothing and reorder nothing for the next read; a dropped write
// never interleaves with the next one.
#include "io_backends.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <random>
#include <vector>

using rt_test::bytes;
using rt_test::text;
using namespace std::chrono_literals;

namespace {

class net_stream_cancel : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(net_stream_cancel);

std::byte pattern_at(std::size_t i, unsigned salt) {
    return std::byte{static_cast<unsigned char>((i * 7 + (i >> 9) + salt) & 0xff)};
}

// A writer that sends `total` pattern bytes in random pieces with pauses, then closes its side.
rt::task<> pattern_writer(rt::net::unix_stream s, std::size_t total, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::byte> data(total);
    for (std::size_t i = 0; i < total; ++i)
        data[i] = pattern_at(i, seed);
    std::size_t off = 0;
    while (off < total) {
        std::size_t n = std::min<std::size_t>(1 + rng() % 3000, total - off);
        EXPECT_TRUE(co_await s.write_all(std::span<const std::byte>(data.data() + off, n)));
        off += n;
        if (rng() % 4 == 0)
            co_await rt::sleep(std::chrono::milliseconds(1 + rng() % 4));
        else if (rng() % 2 == 0)
            co_await rt::yield_now();
    }
    EXPECT_TRUE(s.shutdown(rt::net::shutdown_mode::write));
}

rt::introspect::reactor_info reactor_stats() {
    return rt::introspect::snapshot().reactor;
}

TEST_P(net_stream_cancel, a_read_timed_out_in_flight_is_cancelled_and_the_next_read_gets_all) {
    auto r = make_runtime();
    r.block_on([](rt::io_backend backend) -> rt::task<> {
        auto p = rt::net::unix_stream::pair();
        RT_CO_ASSERT(p);
        auto& [a, b] = *p;
        std::array<std::byte, 64> buf;
        for (int round = 0; round < 3; ++round) {
            // Nothing was sent: the read is pending (on io_uring, a RECV on the ring) when the
            // timeout drops it.
            auto first = a.read(buf);
            EXPECT_FALSE(co_await rt::timeout(5ms, std::move(first)));
            std::string msg = "hello " + std::to_string(round);
            EXPECT_TRUE(co_await b.write_all(msg));
            std::string got;
            while (got.size() < msg.size()) {
                auto n = co_await a.read(buf);
                RT_CO_ASSERT(n && *n > 0);
                got += text(std::span(buf.data(), *n));
            }
            EXPECT_EQ(got, msg);
        }
        auto st = reactor_stats();
        if (backend == rt::io_backend::io_uring) {
            EXPECT_GE(st.ring_stream_reads, 3u);
            EXPECT_GE(st.ring_cancels, 3u);
        } else {
            EXPECT_EQ(st.ring_stream_reads, 0u);
            EXPECT_EQ(st.ring_cancels, 0u);
        }
    }(GetParam()));
}

// Many streams, each read with random buffer sizes under random short deadlines while a writer
// trickles data in: whichever side of each race wins, every byte arrives once, in order.
TEST_P(net_stream_cancel, random_timeouts_on_many_streams_lose_and_reorder_nothing) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        constexpr int streams = 24;
        constexpr std::size_t total = 48 * 1024;
        std::vector<rt::join_handle<std::size_t>> readers;
        std::vector<rt::join_handle<void>> writers;
        auto timeouts = std::make_shared<std::atomic<int>>(0);
        for (int i = 0; i < streams; ++i) {
            auto p = rt::net::unix_stream::pair();
            RT_CO_ASSERT(p);
            auto salt = static_cast<unsigned>(1000 + i);
            writers.push_back(rt::spawn(pattern_writer(std::move(p->second), total, salt)));
            readers.push_back(
                rt::spawn([](rt::net::unix_stream s, unsigned seed,
                             std::shared_ptr<std::atomic<int>> timed_out) -> rt::task<std::size_t> {
                    std::mt19937 rng(seed * 31);
                    std::vector<std::byte> buf(8192);
                    std::size_t got = 0;
                    for (;;) {
                        std::span<std::byte> part(buf.data(), 1 + rng() % buf.size());
                        auto rd = s.read(part);
                        auto res = co_await rt::timeout(std::chrono::milliseconds(1 + rng() % 3),
                                                        std::move(rd));
                        if (!res) {
                            ++*timed_out;
                            continue;
                        }
                        EXPECT_TRUE(*res);
                        if (!*res || **res == 0)
                            break;
                        for (std::size_t k = 0; k < **res; ++k, ++got) {
                            if (part[k] != pattern_at(got, seed)) {
                                ADD_FAILURE() << "byte " << got << " differs";
                                co_return got;
                            }
                        }
                    }
                    co_return got;
                }(std::move(p->first), salt, timeouts)));
        }
        for (auto& h : readers) {
            auto n = co_await h;
            EXPECT_TRUE(n);
            if (n) {
                EXPECT_EQ(*n, total);
            }
        }
        for (auto& h : writers)
            EXPECT_TRUE(co_await h);
        EXPECT_GT(timeouts->load(), streams);
    }());
}

// A task blocked in a read is aborted at a random moment while the peer is writing: the bytes
// the task took plus what the next reader gets are exactly the bytes sent, in order. (Under ASan
// this also checks that a cancelled read never copies into the destroyed task's buffer.)
TEST_P(net_stream_cancel, aborting_a_task_blocked_on_a_read_while_data_arrives_loses_nothing) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        std::mt19937 rng(7);
        constexpr std::size_t total = 32 * 1024;
        for (int round = 0; round < 60; ++round) {
            auto p = rt::net::unix_stream::pair();
            RT_CO_ASSERT(p);
            auto& a = p->first;
            auto got = std::make_shared<std::vector<std::byte>>();
            auto reader = rt::spawn([](rt::net::unix_stream* s,
                                       std::shared_ptr<std::vector<std::byte>> out) -> rt::task<> {
                std::array<std::byte, 1500> buf; // in the frame the abort destroys
                for (;;) {
                    auto n = co_await s->read(buf);
                    if (!n || *n == 0)
                        co_return;
                    out->insert(out->end(), buf.begin(), buf.begin() + *n);
                }
            }(&a, got));
            auto seed = static_cast<unsigned>(round);
            auto writer = rt::spawn(pattern_writer(std::move(p->second), total, seed));
            int pause = static_cast<int>(rng() % 6);
            for (int i = 0; i < pause; ++i)
                co_await rt::yield_now();
            if (rng() % 3 == 0)
                co_await rt::sleep(1ms);
            reader.abort();
            (void)co_await reader;
            std::array<std::byte, 4096> buf;
            for (;;) {
                auto n = co_await a.read(buf);
                RT_CO_ASSERT(n);
                if (*n == 0)
                    break;
                got->insert(got->end(), buf.begin(), buf.begin() + *n);
            }
            EXPECT_TRUE(co_await writer);
            RT_CO_ASSERT(got->size() == total);
            for (std::size_t i = 0; i < total; ++i)
                RT_CO_ASSERT((*got)[i] == pattern_at(i, seed));
        }
    }());
}

// A write dropped while it waits for room may have sent a prefix of its buffer (on io_uring its
// SEND was on the ring), but never more, never twice, and never after the next write's bytes.
TEST_P(net_stream_cancel, a_dropped_write_never_interleaves_with_the_next_one) {
    auto r = make_runtime();
    r.block_on([](rt::io_backend backend) -> rt::task<> {
        auto p = rt::net::unix_stream::pair();
        RT_CO_ASSERT(p);
        auto& [a, b] = *p;
        std::vector<std::byte> fill(256 * 1024, std::byte{'A'});
        std::size_t sent_a = 0;
        // Fill the socket until a write has to wait; that one is dropped.
        for (;;) {
            auto w = a.write(fill);
            auto res = co_await rt::timeout(5ms, std::move(w));
            if (!res)
                break;
            RT_CO_ASSERT(*res);
            sent_a += **res;
        }
        std::vector<std::byte> dropped(64 * 1024, std::byte{'B'});
        auto w = a.write(dropped);
        EXPECT_FALSE(co_await rt::timeout(5ms, std::move(w)));
        auto reader = rt::spawn([](rt::net::unix_stream* s) -> rt::task<std::vector<std::byte>> {
            std::vector<std::byte> all;
            std::vector<std::byte> buf(64 * 1024);
            for (;;) {
                auto n = co_await s->read(buf);
                EXPECT_TRUE(n);
                if (!n || *n == 0)
                    co_return all;
                all.insert(all.end(), buf.begin(), buf.begin() + *n);
            }
        }(&b));
        std::vector<std::byte> last(100 * 1000, std::byte{'C'});
        EXPECT_TRUE(co_await a.write_all(last));
        EXPECT_TRUE(a.shutdown(rt::net::shutdown_mode::write));
        auto all = co_await reader;
        RT_CO_ASSERT(all);
        auto& v = *all;
        std::size_t na = 0, nb = 0, nc = 0, i = 0;
        for (; i < v.size() && v[i] == std::byte{'A'}; ++i)
            ++na;
        for (; i < v.size() && v[i] == std::byte{'B'}; ++i)
            ++nb;
        for (; i < v.size() && v[i] == std::byte{'C'}; ++i)
            ++nc;
        EXPECT_EQ(i, v.size()) << "bytes out of order at " << i;
        EXPECT_GE(na, sent_a);
        EXPECT_LE(nb, dropped.size());
        EXPECT_EQ(nc, last.size());
        if (backend == rt::io_backend::epoll) {
            // Readiness: a dropped write never ran its system call.
            EXPECT_EQ(na, sent_a);
            EXPECT_EQ(nb, 0u);
        } else {
            EXPECT_GT(reactor_stats().ring_stream_writes, 0u);
        }
    }(GetParam()));
}

// Both directions at once with big buffers: partial sends and receives through the ring.
TEST_P(net_stream_cancel, an_8_mib_exchange_both_ways_arrives_intact) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto p = rt::net::unix_stream::pair();
        RT_CO_ASSERT(p);
        constexpr std::size_t total = 8u << 20;
        auto side = [](rt::net::unix_stream* s, unsigned salt) -> rt::task<bool> {
            auto sender = rt::spawn([](rt::net::unix_stream* out, unsigned mine) -> rt::task<> {
                std::vector<std::byte> data(total);
                for (std::size_t i = 0; i < total; ++i)
                    data[i] = pattern_at(i, mine);
                std::size_t off = 0;
                while (off < total) {
                    std::size_t want = std::min<std::size_t>(3u << 20, total - off);
                    auto n =
                        co_await out->write(std::span<const std::byte>(data.data() + off, want));
                    EXPECT_TRUE(n);
                    if (!n)
                        co_return;
                    off += *n;
                }
            }(s, salt));
            std::vector<std::byte> buf(200 * 1000);
            std::size_t got = 0;
            bool same = true;
            while (got < total) {
                auto n = co_await s->read(buf);
                EXPECT_TRUE(n && *n > 0);
                if (!n || *n == 0)
                    break;
                for (std::size_t i = 0; i < *n; ++i, ++got)
                    same = same && buf[i] == pattern_at(got, salt ^ 1);
            }
            EXPECT_TRUE(co_await sender);
            co_return same&& got == total;
        };
        auto one = rt::spawn(side(&p->first, 0));
        auto two = rt::spawn(side(&p->second, 1));
        auto r1 = co_await one;
        auto r2 = co_await two;
        EXPECT_TRUE(r1 && *r1);
        EXPECT_TRUE(r2 && *r2);
    }());
}

} // namespace
