// The blocking pool: results, exceptions, growth beyond the cap, keep-alive, spawning from it.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(sched_blocking, returns_values_and_exceptions) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    auto body = []() -> rt::task<> {
        auto a = co_await rt::spawn_blocking([] { return 40 + 2; });
        EXPECT_EQ(*a, 42);
        auto v = co_await rt::spawn_blocking([] {});
        EXPECT_TRUE(v.has_value());
        auto e = co_await rt::spawn_blocking([]() -> int { throw std::runtime_error("io"); });
        EXPECT_TRUE(!e && e.error().is_panic());
        EXPECT_EQ(e.error().what(), "io");
    };
    r.block_on(body());
}

TEST(sched_blocking, more_calls_than_threads_queue_and_all_run) {
    auto r = rt::runtime::builder().worker_threads(2).max_blocking_threads(4).build();
    static std::atomic<int> running{0};
    static std::atomic<int> peak{0};
    auto body = []() -> rt::task<int> {
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < 64; ++i) {
            hs.push_back(rt::spawn_blocking([i] {
                int now = ++running;
                int p = peak.load();
                while (now > p && !peak.compare_exchange_weak(p, now)) {
                }
                std::this_thread::sleep_for(2ms);
                --running;
                return i;
            }));
        }
        int sum = 0;
        for (auto& h : hs)
            sum += *(co_await h);
        co_return sum;
    };
    EXPECT_EQ(r.block_on(body()), 63 * 64 / 2);
    EXPECT_LE(peak.load(), 4);
    EXPECT_GE(peak.load(), 2);
}

TEST(sched_blocking, spawn_from_inside_blocking_code) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    auto body = []() -> rt::task<int> {
        auto outer = rt::spawn_blocking([] {
            // A blocking thread belongs to the runtime: it may spawn async work.
            return rt::spawn([]() -> rt::task<int> {
                co_await rt::sleep(1ms);
                co_return 5;
            }());
        });
        auto inner = co_await outer;
        auto v = co_await *inner;
        co_return *v;
    };
    EXPECT_EQ(r.block_on(body()), 5);
}

TEST(sched_blocking, idle_threads_retire_after_keep_alive) {
    auto r = rt::runtime::builder().worker_threads(1).blocking_keep_alive(20ms).build();
    auto body = []() -> rt::task<> {
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < 8; ++i)
            hs.push_back(rt::spawn_blocking([] { std::this_thread::sleep_for(5ms); }));
        for (auto& h : hs)
            co_await h;
        co_await rt::sleep(200ms);
        // Still works after the threads retired: a new one starts on demand.
        auto again = co_await rt::spawn_blocking([] { return 1; });
        EXPECT_EQ(*again, 1);
    };
    r.block_on(body());
}

TEST(sched_blocking, runtime_shutdown_cancels_queued_calls_and_waits_for_running_ones) {
    std::atomic<int> ran{0};
    rt::join_handle<void> queued;
    {
        auto r = rt::runtime::builder().worker_threads(1).max_blocking_threads(1).build();
        queued = r.block_on([](std::atomic<int>* n) -> rt::task<rt::join_handle<void>> {
            (void)rt::spawn_blocking([n] {
                std::this_thread::sleep_for(50ms);
                ++*n;
            });
            co_await rt::sleep(5ms);
            co_return rt::spawn_blocking([n] { ++*n; }); // waits behind the first
        }(&ran));
    }
    EXPECT_EQ(ran.load(), 1);
    EXPECT_TRUE(queued.is_finished());
}

} // namespace
