// Randomized many-task workloads: spawn trees, random yields, sleeps, aborts and joins, with
// every result checked exactly. Scale with RT_STRESS_SCALE (default 1).
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

using namespace std::chrono_literals;

namespace {

int scale() {
    const char* s = std::getenv("RT_STRESS_SCALE");
    return s ? std::max(1, std::atoi(s)) : 1;
}

rt::task<long> leaf(unsigned seed) {
    std::minstd_rand rng(seed);
    long v = static_cast<long>(seed % 1000);
    switch (rng() % 4) {
    case 0:
        co_await rt::yield_now();
        break;
    case 1:
        co_await rt::sleep(std::chrono::milliseconds(rng() % 3));
        break;
    case 2: {
        auto b = co_await rt::spawn_blocking([v] { return v; });
        v = *b;
        break;
    }
    default:
        break;
    }
    co_return v;
}

rt::task<long> tree(unsigned seed, int depth) {
    if (depth == 0)
        co_return co_await leaf(seed);
    std::vector<rt::join_handle<long>> kids;
    for (unsigned i = 0; i < 4; ++i)
        kids.push_back(rt::spawn(tree(seed * 4 + i + 1, depth - 1)));
    long sum = 0;
    for (auto& k : kids)
        sum += *(co_await k);
    co_return sum;
}

long tree_expected(unsigned seed, int depth) {
    if (depth == 0)
        return static_cast<long>(seed % 1000);
    long s = 0;
    for (unsigned i = 0; i < 4; ++i)
        s += tree_expected(seed * 4 + i + 1, depth - 1);
    return s;
}

TEST(rt_spawn_stress, spawn_trees_give_exact_sums) {
    for (int round = 0; round < 3 * scale(); ++round) {
        auto r =
            rt::runtime::builder().worker_threads(round % 2 + 2).max_blocking_threads(8).build();
        unsigned seed = 7 + static_cast<unsigned>(round);
        EXPECT_EQ(r.block_on(tree(seed, 5)), tree_expected(seed, 5)) << "seed " << seed;
    }
}

rt::task<int> victim(int i) {
    co_await rt::sleep(std::chrono::milliseconds(i % 5));
    co_await rt::yield_now();
    co_return i;
}

TEST(rt_spawn_stress, random_aborts_either_cancel_or_complete_never_both) {
    for (int round = 0; round < 5 * scale(); ++round) {
        auto r = rt::runtime::builder().worker_threads(2).build();
        auto body = [](unsigned seed) -> rt::task<> {
            std::minstd_rand rng(seed);
            std::vector<rt::join_handle<int>> hs;
            for (int i = 0; i < 5000; ++i)
                hs.push_back(rt::spawn(victim(i)));
            for (auto& h : hs) {
                if (rng() % 3 == 0)
                    h.abort();
                if (rng() % 7 == 0)
                    co_await rt::yield_now();
            }
            int i = 0;
            for (auto& h : hs) {
                auto res = co_await h;
                if (res)
                    EXPECT_EQ(*res, i);
                else
                    EXPECT_TRUE(res.error().is_cancelled());
                ++i;
            }
        };
        r.block_on(body(static_cast<unsigned>(round)));
    }
}

TEST(rt_spawn_stress, timeouts_racing_completions) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    auto body = []() -> rt::task<> {
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < 2000 * scale(); ++i) {
            hs.push_back(rt::spawn([](int k) -> rt::task<int> {
                auto res = co_await rt::timeout(std::chrono::milliseconds(k % 4), victim(k));
                co_return res ? 1 : 0;
            }(i)));
        }
        int done = 0;
        for (auto& h : hs)
            done += *(co_await h) >= 0 ? 1 : 0;
        EXPECT_EQ(done, 2000 * scale());
    };
    r.block_on(body());
}

TEST(rt_spawn_stress, runtimes_created_and_destroyed_under_load) {
    for (int round = 0; round < 20 * scale(); ++round) {
        auto r = rt::runtime::builder().worker_threads(2).build();
        r.block_on([]() -> rt::task<> {
            for (int i = 0; i < 500; ++i)
                (void)rt::spawn(victim(i));
            co_await rt::sleep(1ms);
        }());
    }
}

} // namespace
