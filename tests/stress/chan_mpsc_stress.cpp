// Randomized rt::mpsc workloads on a 2-worker runtime: many producers with random yields, sends
// and receives cancelled at random by select and timeout, close and drop in the middle. Every
// message is checked exactly: per producer, the receiver sees precisely the sends that reported
// success, in order (a cancelled send that delivered would show as a duplicate, a lost message as
// a gap). Scale with RT_STRESS_SCALE (default 1); RT_STRESS_SEED=<n> replays one seed.
#include <rt/chan/mpsc.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

int scale() {
    const char* s = std::getenv("RT_STRESS_SCALE");
    return s ? std::max(1, std::atoi(s)) : 1;
}

std::vector<unsigned> seeds(unsigned count) {
    if (const char* s = std::getenv("RT_STRESS_SEED"))
        return {unsigned(std::strtoul(s, nullptr, 10))};
    std::vector<unsigned> v;
    for (unsigned i = 1; i <= count * unsigned(scale()); ++i)
        v.push_back(i);
    return v;
}

template <class F>
void run(F body) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([](F f) -> rt::task<> {
        auto h = rt::spawn(f());
        auto res = co_await h;
        if (!res)
            res.error().rethrow();
    }(std::move(body)));
}

// How many sends and receives lost a race (proves the cancellation paths ran).
std::atomic<std::uint64_t> cancelled_sends{0}, cancelled_receives{0};

std::uint64_t msg(unsigned producer, std::uint32_t seq) {
    return (std::uint64_t(producer) << 32) | seq;
}

struct tally {
    std::vector<std::uint32_t> next; // per producer: the next sequence number expected
    std::uint64_t received = 0;
    bool ok = true;
    std::string first_error;

    explicit tally(unsigned producers) : next(producers, 0) {}
    void see(std::uint64_t m) {
        auto p = unsigned(m >> 32);
        auto seq = std::uint32_t(m);
        if (p >= next.size() || seq != next[p]) {
            if (ok)
                first_error = "producer " + std::to_string(p) + ": got " + std::to_string(seq) +
                              ", expected " + std::to_string(p < next.size() ? next[p] : 0);
            ok = false;
            return;
        }
        ++next[p];
        ++received;
    }
};

// Sends `count` messages, each with a random way of awaiting: plain, under a short timeout, or
// against yield_now in a select. A send that lost is retried with the same number. Returns the
// number of sends that succeeded (all of them unless the channel closed).
rt::task<std::uint32_t> produce(rt::mpsc::sender<std::uint64_t> tx, unsigned id,
                                std::uint32_t count, unsigned seed) {
    std::mt19937 rng(seed * 7919 + id);
    std::uint32_t seq = 0;
    while (seq < count) {
        if (rng() % 8 == 0)
            co_await rt::yield_now();
        bool sent = false, closed = false;
        switch (rng() % 4) {
        case 0: {
            auto t =
                co_await rt::timeout(std::chrono::microseconds(rng() % 300), tx.send(msg(id, seq)));
            if (t) {
                sent = t->has_value();
                closed = !sent;
            }
            break;
        }
        case 1: {
            auto s = co_await rt::select(rt::yield_now(), tx.send(msg(id, seq)));
            if (s.index() == 1) {
                sent = std::get<1>(s).has_value();
                closed = !sent;
            }
            break;
        }
        default: {
            auto res = co_await tx.send(msg(id, seq));
            sent = res.has_value();
            closed = !sent;
            if (closed && std::uint32_t(res.error().value) != seq)
                ADD_FAILURE() << "send_error carried the wrong message";
            break;
        }
        }
        if (closed)
            break;
        if (sent)
            ++seq;
        else
            cancelled_sends.fetch_add(1);
    }
    tx = {}; // the stream ends with the last producer, not when its frame is freed
    co_return seq;
}

// Receives one message with a random way of awaiting; nullopt in `*out` at the end of the stream.
// Returns false when the receive was cancelled (select lost, timeout).
template <class Rx>
rt::task<bool> receive(Rx& rx, std::mt19937& rng, std::optional<std::uint64_t>* out) {
    switch (rng() % 4) {
    case 0: {
        auto t = co_await rt::timeout(std::chrono::microseconds(rng() % 200), rx.recv());
        if (!t) {
            cancelled_receives.fetch_add(1);
            co_return false;
        }
        *out = *t;
        co_return true;
    }
    case 1: {
        auto s = co_await rt::select(rt::yield_now(), rx.recv());
        if (s.index() == 0) {
            cancelled_receives.fetch_add(1);
            co_return false;
        }
        *out = std::get<1>(s);
        co_return true;
    }
    default:
        *out = co_await rx.recv();
        co_return true;
    }
}

TEST(chan_mpsc_stress, random_bounded_channels_with_cancellation_lose_and_duplicate_nothing) {
    for (unsigned seed : seeds(60)) {
        SCOPED_TRACE("RT_STRESS_SEED=" + std::to_string(seed));
        run([seed]() -> rt::task<> {
            std::mt19937 rng(seed);
            const std::size_t caps[] = {1, 2, 3, 8, 64};
            const std::size_t cap = caps[rng() % 5];
            const unsigned producers = 1 + rng() % 8;
            const std::uint32_t per = 500 + rng() % 4000;
            auto [tx, rx] = rt::mpsc::channel<std::uint64_t>(cap);
            std::vector<rt::join_handle<std::uint32_t>> hs;
            for (unsigned p = 0; p < producers; ++p)
                hs.push_back(rt::spawn(produce(tx, p, per, seed)));
            tx = {};
            tally t(producers);
            for (;;) {
                std::optional<std::uint64_t> m;
                if (!co_await receive(rx, rng, &m))
                    continue;
                if (!m)
                    break;
                t.see(*m);
            }
            EXPECT_TRUE(t.ok) << t.first_error;
            for (unsigned p = 0; p < producers; ++p) {
                auto sent = co_await hs[p];
                EXPECT_EQ(sent.value(), per);
                EXPECT_EQ(t.next[p], per) << "producer " << p;
            }
            EXPECT_EQ(t.received, std::uint64_t(per) * producers);
        });
    }
    EXPECT_GT(cancelled_sends.load(), 0u);
    EXPECT_GT(cancelled_receives.load(), 0u);
}

TEST(chan_mpsc_stress, closing_in_the_middle_delivers_exactly_the_successful_sends) {
    for (unsigned seed : seeds(60)) {
        SCOPED_TRACE("RT_STRESS_SEED=" + std::to_string(seed));
        run([seed]() -> rt::task<> {
            std::mt19937 rng(seed);
            const std::size_t cap = 1 + rng() % 16;
            const unsigned producers = 2 + rng() % 6;
            const std::uint32_t per = 1000 + rng() % 3000;
            auto [tx, rx] = rt::mpsc::channel<std::uint64_t>(cap);
            std::vector<rt::join_handle<std::uint32_t>> hs;
            for (unsigned p = 0; p < producers; ++p)
                hs.push_back(rt::spawn(produce(tx, p, per, seed)));
            tx = {};
            const std::uint64_t close_after = rng() % (std::uint64_t(per) * producers / 2);
            tally t(producers);
            for (;;) {
                if (t.received == close_after && !rx.is_closed())
                    rx.close();
                std::optional<std::uint64_t> m;
                if (!co_await receive(rx, rng, &m))
                    continue;
                if (!m)
                    break;
                t.see(*m);
            }
            EXPECT_TRUE(t.ok) << t.first_error;
            std::uint64_t sent_total = 0;
            for (unsigned p = 0; p < producers; ++p) {
                auto sent = co_await hs[p];
                // What a producer's sends reported is exactly what arrived from it.
                EXPECT_EQ(sent.value(), t.next[p]) << "producer " << p;
                sent_total += sent.value();
            }
            EXPECT_EQ(t.received, sent_total);
        });
    }
}

// A message that counts its live copies (a move hands the message over).
struct counted {
    static inline std::atomic<long> live{0};
    std::uint64_t v = 0;
    bool owns = true;
    explicit counted(std::uint64_t x) : v(x) { live.fetch_add(1); }
    counted(counted&& o) noexcept : v(o.v), owns(std::exchange(o.owns, false)) {}
    counted& operator=(counted&&) = delete;
    ~counted() {
        if (owns)
            live.fetch_sub(1);
    }
};

TEST(chan_mpsc_stress, dropping_the_receiver_in_the_middle_leaks_nothing) {
    for (unsigned seed : seeds(60)) {
        SCOPED_TRACE("RT_STRESS_SEED=" + std::to_string(seed));
        run([seed]() -> rt::task<> {
            std::mt19937 rng(seed);
            const std::size_t cap = 1 + rng() % 32;
            const unsigned producers = 1 + rng() % 6;
            auto [tx, rx] = rt::mpsc::channel<counted>(cap);
            std::atomic<std::uint64_t> ok_sends{0};
            std::vector<rt::join_handle<void>> hs;
            for (unsigned p = 0; p < producers; ++p) {
                hs.push_back(rt::spawn([](rt::mpsc::sender<counted> out, unsigned id,
                                          std::atomic<std::uint64_t>* oks) -> rt::task<> {
                    std::mt19937 r(id);
                    for (std::uint32_t i = 0;; ++i) {
                        if (r() % 4 == 0)
                            co_await rt::yield_now();
                        auto res = co_await out.send(counted(msg(id, i)));
                        if (!res)
                            break; // the receiver is gone; the message came back
                        oks->fetch_add(1);
                    }
                    out = {};
                }(tx, p, &ok_sends)));
            }
            tx = {};
            const unsigned take = rng() % 5000;
            std::uint64_t received = 0;
            for (unsigned i = 0; i < take; ++i) {
                auto m = co_await rx.recv();
                if (!m)
                    break;
                ++received;
            }
            { auto gone = std::move(rx); } // closes, wakes the senders, destroys what is queued
            for (auto& h : hs)
                co_await h;
            EXPECT_GE(ok_sends.load(), received);
            EXPECT_EQ(counted::live.load(), 0);
        });
    }
}

TEST(chan_mpsc_stress, unbounded_channels_with_random_receive_cancellation) {
    for (unsigned seed : seeds(60)) {
        SCOPED_TRACE("RT_STRESS_SEED=" + std::to_string(seed));
        run([seed]() -> rt::task<> {
            std::mt19937 rng(seed);
            const unsigned producers = 1 + rng() % 8;
            const std::uint32_t per = 500 + rng() % 3000;
            auto [tx, rx] = rt::mpsc::unbounded_channel<std::uint64_t>();
            std::vector<rt::join_handle<void>> hs;
            for (unsigned p = 0; p < producers; ++p) {
                hs.push_back(rt::spawn([](rt::mpsc::unbounded_sender<std::uint64_t> out,
                                          unsigned id, std::uint32_t n) -> rt::task<> {
                    std::mt19937 r(id);
                    for (std::uint32_t i = 0; i < n; ++i) {
                        if (r() % 16 == 0)
                            co_await rt::yield_now();
                        EXPECT_TRUE(out.send(msg(id, i)));
                    }
                    out = {};
                }(tx, p, per)));
            }
            tx = {};
            tally t(producers);
            for (;;) {
                std::optional<std::uint64_t> m;
                if (!co_await receive(rx, rng, &m))
                    continue;
                if (!m)
                    break;
                t.see(*m);
            }
            EXPECT_TRUE(t.ok) << t.first_error;
            EXPECT_EQ(t.received, std::uint64_t(per) * producers);
            for (auto& h : hs)
                co_await h;
        });
    }
}

// Plain awaits only, no timeout or select to paper over a lost wake: a receiver or sender that
// misses its wake-up hangs here (and the test's time limit reports it). Small capacities keep
// both sides waiting on each other all the time.
TEST(chan_mpsc_stress, plain_awaits_on_tiny_channels_never_lose_a_wake) {
    for (unsigned seed : seeds(24)) {
        SCOPED_TRACE("RT_STRESS_SEED=" + std::to_string(seed));
        run([seed]() -> rt::task<> {
            std::mt19937 rng(seed);
            const std::size_t cap = 1 + rng() % 2;
            const unsigned producers = 1 + rng() % 4;
            const std::uint32_t per = 20000 / producers;
            auto [tx, rx] = rt::mpsc::channel<std::uint64_t>(cap);
            std::vector<rt::join_handle<void>> hs;
            for (unsigned p = 0; p < producers; ++p) {
                hs.push_back(rt::spawn([](rt::mpsc::sender<std::uint64_t> out, unsigned id,
                                          std::uint32_t n) -> rt::task<> {
                    for (std::uint32_t i = 0; i < n; ++i)
                        EXPECT_TRUE(co_await out.send(msg(id, i)));
                    out = {};
                }(tx, p, per)));
            }
            tx = {};
            tally t(producers);
            while (auto m = co_await rx.recv())
                t.see(*m);
            EXPECT_TRUE(t.ok) << t.first_error;
            EXPECT_EQ(t.received, std::uint64_t(per) * producers);
            for (auto& h : hs)
                co_await h;
        });
    }
}

} // namespace
