// rt::broadcast under many senders and receivers on a 2-worker runtime with randomized yields,
// receives cancelled by select and timeout, receivers joining, leaving and being aborted, and rings
// small enough to lag. Every count is checked exactly. Scale with RT_STRESS_SCALE (default 1).
#include <rt/chan/broadcast.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

using namespace std::chrono_literals;

namespace {

int scale() {
    const char* s = std::getenv("RT_STRESS_SCALE");
    return s ? std::max(1, std::atoi(s)) : 1;
}

int rounds() {
    return 100 * scale();
}

// A payload that counts live copies, so that the test can see what the channel still holds.
struct item {
    static inline std::atomic<long> live{0};
    int v = 0;
    explicit item(int x) : v(x) { ++live; }
    item(const item& o) : v(o.v) { ++live; }
    item(item&& o) noexcept : v(o.v) { ++live; }
    item& operator=(const item&) = default;
    item& operator=(item&&) noexcept = default;
    ~item() { --live; }
};

using tx_t = rt::broadcast::sender<item>;
using rx_t = rt::broadcast::receiver<item>;

struct log {
    std::vector<int> values; // in arrival order
    std::uint64_t missed = 0;
    int lags = 0;
};

// One receive, by a randomly chosen route. False when a select or timeout took the branch away
// (nothing may be lost then); otherwise `out` holds the result.
rt::task<bool> receive_once(rx_t& rx, std::minstd_rand& rng,
                            rt::expected<item, rt::broadcast::recv_error>& out) {
    switch (rng() % 6) {
    case 0: {
        auto res = co_await rt::select(rt::yield_now(), rx.recv());
        if (res.index() == 0)
            co_return false;
        out = std::get<1>(std::move(res));
        co_return true;
    }
    case 1: {
        auto res = co_await rt::select(rx.recv(), rt::yield_now());
        if (res.index() == 1)
            co_return false;
        out = std::get<0>(std::move(res));
        co_return true;
    }
    case 2: {
        auto res = co_await rt::timeout(std::chrono::microseconds(rng() % 500), rx.recv());
        if (!res)
            co_return false;
        out = std::move(*res);
        co_return true;
    }
    case 3: {
        auto t = rx.try_recv();
        if (!t && t.error().is_empty()) {
            co_await rt::yield_now();
            co_return false;
        }
        if (t)
            out = std::move(*t);
        else
            out = rt::unexpected(rt::broadcast::recv_error{t.error().is_lagged()
                                                               ? rt::broadcast::recv_error::lagged
                                                               : rt::broadcast::recv_error::closed,
                                                           t.error().missed});
        co_return true;
    }
    default:
        out = co_await rx.recv();
        co_return true;
    }
}

// Receives until the close; `param` is moved into a local so that the receiver is gone when the
// body ends (a by-value parameter would live until the join handle is dropped).
rt::task<log> drain(rx_t param, unsigned seed) {
    rx_t rx = std::move(param);
    std::minstd_rand rng(seed);
    log l;
    rt::expected<item, rt::broadcast::recv_error> r = rt::unexpected(rt::broadcast::recv_error{});
    for (;;) {
        if (rng() % 8 == 0)
            co_await rt::yield_now();
        if (!co_await receive_once(rx, rng, r))
            continue;
        if (r) {
            l.values.push_back(r->v);
            continue;
        }
        if (r.error().is_closed())
            break;
        EXPECT_GT(r.error().missed, 0u);
        l.missed += r.error().missed;
        ++l.lags;
    }
    co_return l;
}

rt::task<> produce(tx_t param, int id, int count, unsigned seed) {
    tx_t tx = std::move(param);
    std::minstd_rand rng(seed);
    for (int k = 0; k < count; ++k) {
        EXPECT_TRUE(tx.send(item(id * count + k)).has_value());
        for (auto n = rng() % 4; n != 0; --n)
            co_await rt::yield_now();
    }
}

// Checks that values of each sender arrive in the order sent, each at most once.
void check_fifo_and_unique(const std::vector<int>& got, int senders, int per_sender) {
    std::vector<int> last(static_cast<std::size_t>(senders), -1);
    std::vector<char> seen(static_cast<std::size_t>(senders * per_sender), 0);
    for (int v : got) {
        ASSERT_GE(v, 0);
        ASSERT_LT(v, senders * per_sender);
        EXPECT_EQ(seen[static_cast<std::size_t>(v)]++, 0) << "duplicate " << v;
        int s = v / per_sender;
        EXPECT_GT(v % per_sender, last[static_cast<std::size_t>(s)]) << "out of order " << v;
        last[static_cast<std::size_t>(s)] = v % per_sender;
    }
}

// Every receiver subscribed before the first send and the ring holds everything: each gets every
// value exactly once, all in one order.
TEST(chan_broadcast_stress, no_lag_every_receiver_gets_everything_in_one_order) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    for (int round = 0; round < rounds(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            std::minstd_rand rng(seed);
            const int senders = 1 + static_cast<int>(rng() % 4);
            const int receivers = 1 + static_cast<int>(rng() % 5);
            const int per_sender = 300 + static_cast<int>(rng() % 300);
            const int total = senders * per_sender;
            auto [tx, rx] = rt::broadcast::channel<item>(static_cast<std::size_t>(total));
            std::vector<rt::join_handle<log>> rs;
            for (int i = 0; i < receivers; ++i)
                rs.push_back(
                    rt::spawn(drain(tx.subscribe(), seed * 31 + static_cast<unsigned>(i))));
            { auto own = std::move(rx); }
            std::vector<rt::join_handle<void>> ss;
            for (int s = 0; s < senders; ++s)
                ss.push_back(
                    rt::spawn(produce(tx, s, per_sender, seed * 17 + static_cast<unsigned>(s))));
            { auto own = std::move(tx); }
            for (auto& h : ss)
                co_await h;
            std::vector<int> order;
            for (auto& h : rs) {
                auto l = *(co_await h);
                EXPECT_EQ(l.lags, 0);
                EXPECT_EQ(l.values.size(), static_cast<std::size_t>(total));
                check_fifo_and_unique(l.values, senders, per_sender);
                if (order.empty())
                    order = l.values;
                else
                    EXPECT_EQ(l.values, order);
            }
        }(static_cast<unsigned>(round + 1)));
        EXPECT_EQ(item::live.load(), 0);
    }
}

// A ring far smaller than the stream: receivers lag. What each receiver gets plus what it was
// told it missed is exactly what was sent; each sender's values keep their order; two receivers
// never disagree on the order of values both got.
TEST(chan_broadcast_stress, lagging_receivers_account_for_every_value) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    int lags = 0;
    for (int round = 0; round < rounds(); ++round) {
        r.block_on([](unsigned seed, int* lag_count) -> rt::task<> {
            std::minstd_rand rng(seed);
            const int senders = 1 + static_cast<int>(rng() % 4);
            const int receivers = 2 + static_cast<int>(rng() % 4);
            const int per_sender = 1000;
            const int total = senders * per_sender;
            const std::size_t cap = 1 + rng() % 16;
            auto [tx, rx] = rt::broadcast::channel<item>(cap);
            std::vector<rt::join_handle<log>> rs;
            for (int i = 0; i < receivers; ++i)
                rs.push_back(rt::spawn(drain(tx.subscribe(), seed * 7 + static_cast<unsigned>(i))));
            { auto own = std::move(rx); }
            std::vector<rt::join_handle<void>> ss;
            for (int s = 0; s < senders; ++s)
                ss.push_back(
                    rt::spawn(produce(tx, s, per_sender, seed * 13 + static_cast<unsigned>(s))));
            // While it runs, the ring never holds more than its capacity, and memory stays
            // bounded: besides the ring, a sender has at most a temporary, the argument of send()
            // and the value it evicts alive; a receiver a few moves of the value it got.
            for (int i = 0; i < 50; ++i) {
                EXPECT_LE(tx.len(), cap);
                EXPECT_LE(item::live.load(), static_cast<long>(cap) + 3 * senders + 4 * receivers);
                co_await rt::yield_now();
            }
            { auto own = std::move(tx); }
            for (auto& h : ss)
                co_await h;
            std::vector<std::vector<int>> logs;
            for (auto& h : rs) {
                auto l = *(co_await h);
                EXPECT_EQ(l.values.size() + l.missed, static_cast<std::size_t>(total));
                *lag_count += l.lags;
                check_fifo_and_unique(l.values, senders, per_sender);
                logs.push_back(std::move(l.values));
            }
            // Pairwise: the common values appear in the same relative order.
            std::vector<int> pos(static_cast<std::size_t>(total));
            for (std::size_t a = 0; a + 1 < logs.size(); ++a) {
                std::fill(pos.begin(), pos.end(), -1);
                for (std::size_t i = 0; i < logs[a].size(); ++i)
                    pos[static_cast<std::size_t>(logs[a][i])] = static_cast<int>(i);
                int prev = -1;
                for (int v : logs[a + 1]) {
                    int p = pos[static_cast<std::size_t>(v)];
                    if (p < 0)
                        continue;
                    EXPECT_GT(p, prev);
                    prev = p;
                }
            }
        }(static_cast<unsigned>(round + 100), &lags));
        EXPECT_EQ(item::live.load(), 0);
    }
    EXPECT_GT(lags, 0); // the scenario did what it is for
}

// Receivers join halfway (subscribe, resubscribe, copy) and leave halfway (dropped or aborted
// mid-wait). A joiner gets exactly a suffix of the full stream; leavers release what they had not
// read, so once the last receiver has read everything the ring holds nothing.
TEST(chan_broadcast_stress, receivers_joining_and_leaving) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    for (int round = 0; round < rounds(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            std::minstd_rand rng(seed);
            constexpr int per_sender = 400;
            constexpr int senders = 3;
            constexpr int total = senders * per_sender;
            auto [tx, rx] = rt::broadcast::channel<item>(total);
            auto full = rt::spawn(drain(tx.subscribe(), seed));
            std::vector<rt::join_handle<void>> ss;
            for (int s = 0; s < senders; ++s)
                ss.push_back(
                    rt::spawn(produce(tx, s, per_sender, seed * 3 + static_cast<unsigned>(s))));
            std::vector<rt::join_handle<log>> joiners;
            std::vector<rt::join_handle<log>> aborted;
            for (int i = 0; i < 12; ++i) {
                for (auto n = rng() % 20; n != 0; --n)
                    co_await rt::yield_now();
                switch (i % 4) {
                case 0:
                    joiners.push_back(rt::spawn(drain(tx.subscribe(), seed + 1000u + i)));
                    break;
                case 1:
                    joiners.push_back(rt::spawn(drain(rx.resubscribe(), seed + 1000u + i)));
                    break;
                case 2: {
                    rx_t copy = rx;
                    joiners.push_back(rt::spawn(drain(std::move(copy), seed + 1000u + i)));
                    break;
                }
                default: {
                    // A receiver that reads a little, then is dropped with values unread.
                    rx_t quitter = tx.subscribe();
                    for (auto n = rng() % 5; n != 0; --n)
                        (void)quitter.try_recv();
                    aborted.push_back(rt::spawn(drain(tx.subscribe(), seed + 2000u + i)));
                    break;
                }
                }
            }
            for (auto& h : aborted)
                h.abort();
            { auto own = std::move(tx); }
            for (auto& h : ss)
                co_await h;
            auto all = *(co_await full);
            EXPECT_EQ(all.values.size(), static_cast<std::size_t>(total));
            check_fifo_and_unique(all.values, senders, per_sender);
            for (auto& h : joiners) {
                auto l = *(co_await h);
                EXPECT_EQ(l.lags, 0);
                EXPECT_LE(l.values.size(), all.values.size());
                if (l.values.size() <= all.values.size()) {
                    EXPECT_TRUE(std::equal(l.values.begin(), l.values.end(),
                                           all.values.end() - static_cast<long>(l.values.size())));
                }
            }
            for (auto& h : aborted)
                (void)co_await h;
            // `rx` is the last receiver and keeps the channel alive; once it has read everything,
            // nothing is left in the ring: the leavers released their shares.
            int left = 0;
            while (auto v = rx.try_recv())
                ++left;
            EXPECT_TRUE(rx.try_recv().error().is_closed());
            EXPECT_EQ(left, total);
            EXPECT_EQ(item::live.load(), 0);
        }(static_cast<unsigned>(round + 500)));
        EXPECT_EQ(item::live.load(), 0);
    }
}

} // namespace
