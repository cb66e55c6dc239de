// sleep, sleep_until, timeout and interval against the real reactor thread.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

TEST(time_sleep, never_ends_early) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        for (auto d : {1ms, 3ms, 10ms, 25ms}) {
            auto start = rt::clock::now();
            co_await rt::sleep(d);
            EXPECT_GE(rt::clock::now() - start, d);
        }
        auto deadline = rt::clock::now() + 15ms;
        co_await rt::sleep_until(deadline);
        EXPECT_GE(rt::clock::now(), deadline);
    };
    r.block_on(body());
}

TEST(time_sleep, zero_and_past_deadlines_complete_without_waiting_for_a_tick) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        for (int i = 0; i < 10'000; ++i) {
            co_await rt::sleep(0ms);
            co_await rt::sleep(-5ms);
            co_await rt::sleep_until(rt::clock::now() - 1s);
        }
    };
    auto start = rt::clock::now();
    r.block_on(body());
    // 30,000 waits of 1 ms each would take 30 s; a handful of budget yields take microseconds.
    EXPECT_LT(rt::clock::now() - start, 5s);
}

rt::task<> record_after(std::chrono::milliseconds d, int id, std::mutex* mu,
                        std::vector<int>* out) {
    co_await rt::sleep(d);
    std::lock_guard lock(*mu);
    out->push_back(id);
}

TEST(time_sleep, sleeps_complete_in_deadline_order) {
    auto r = make_runtime();
    auto body = []() -> rt::task<std::vector<int>> {
        std::mutex mu;
        std::vector<int> order;
        std::vector<rt::join_handle<void>> hs;
        // Spawned in reverse so that spawn order cannot explain the result.
        for (int i = 9; i >= 0; --i)
            hs.push_back(
                rt::spawn(record_after(std::chrono::milliseconds(10 + 15 * i), i, &mu, &order)));
        for (auto& h : hs)
            co_await h;
        co_return order;
    };
    auto order = r.block_on(body());
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

rt::task<int> slow_value(std::chrono::milliseconds d, int v) {
    co_await rt::sleep(d);
    co_return v;
}

TEST(time_timeout, inner_wins_gives_its_value) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        auto res = co_await rt::timeout(1s, slow_value(5ms, 7));
        EXPECT_TRUE(res.has_value());
        EXPECT_EQ(*res, 7);
        auto immediate = co_await rt::timeout(0ms, slow_value(0ms, 8));
        EXPECT_TRUE(immediate.has_value()); // completes without waiting: wins
    };
    r.block_on(body());
}

TEST(time_timeout, elapsed_cancels_the_inner_work) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        std::atomic<bool> finished{false};
        auto inner = [](std::atomic<bool>* f) -> rt::task<int> {
            co_await rt::sleep(200ms);
            f->store(true);
            co_return 1;
        };
        auto start = rt::clock::now();
        auto res = co_await rt::timeout(20ms, inner(&finished));
        auto took = rt::clock::now() - start;
        EXPECT_FALSE(res.has_value());
        EXPECT_EQ(res.error(), rt::elapsed{});
        EXPECT_GE(took, 20ms);
        EXPECT_LT(took, 190ms);
        co_await rt::sleep(250ms);
        EXPECT_FALSE(finished.load()); // the inner task's frame was destroyed
    };
    r.block_on(body());
}

TEST(time_timeout, wraps_a_join_handle_which_stays_usable) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        auto h = rt::spawn(slow_value(60ms, 3));
        auto first = co_await rt::timeout(5ms, h);
        EXPECT_FALSE(first.has_value());
        auto second = co_await rt::timeout(2s, h);
        EXPECT_TRUE(second.has_value());
        EXPECT_TRUE(second->has_value());
        EXPECT_EQ(**second, 3);
    };
    r.block_on(body());
}

TEST(time_timeout, inner_exception_propagates) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        auto thrower = []() -> rt::task<int> {
            co_await rt::sleep(1ms);
            throw std::runtime_error("inner");
        };
        EXPECT_THROW((void)co_await rt::timeout(1s, thrower()), std::runtime_error);
    };
    r.block_on(body());
}

TEST(time_interval, ticks_at_the_period_without_drift) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        auto start = rt::clock::now();
        auto iv = rt::interval(10ms, start);
        std::vector<rt::clock::time_point> ticks;
        for (int i = 0; i < 6; ++i)
            ticks.push_back(co_await iv.tick());
        for (int i = 0; i < 6; ++i)
            EXPECT_EQ(ticks[i], start + i * 10ms);
        EXPECT_GE(rt::clock::now(), start + 50ms);
    };
    r.block_on(body());
}

TEST(time_interval, missed_ticks_burst_to_catch_up) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        auto start = rt::clock::now();
        auto iv = rt::interval(5ms, start);
        co_await iv.tick();
        co_await rt::sleep(30ms); // miss about six ticks
        auto before = rt::clock::now();
        for (int i = 0; i < 5; ++i)
            co_await iv.tick();
        EXPECT_LT(rt::clock::now() - before, 5ms); // they were all due already
    };
    r.block_on(body());
    EXPECT_THROW(rt::interval(0ms), std::invalid_argument);
}

TEST(time_sleep, many_concurrent_sleepers_all_wake) {
    auto r = make_runtime();
    auto body = []() -> rt::task<std::size_t> {
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < 50'000; ++i)
            hs.push_back(rt::spawn(slow_value(std::chrono::milliseconds(50 + i % 50), 1)));
        std::size_t n = 0;
        for (auto& h : hs)
            n += static_cast<std::size_t>(*(co_await h));
        co_return n;
    };
    EXPECT_EQ(r.block_on(body()), 50'000u);
}

} // namespace
