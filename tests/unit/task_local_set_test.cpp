// rt::local_set: tasks pinned to the driving thread; run until all finish, run_until, cancel.
#include <rt/rt.hpp>
#include <rt/task/local_set.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

rt::task<> sleep_then_increment(std::shared_ptr<int> counter, std::thread::id* seen_on) {
    co_await rt::sleep(1s);
    ++*counter; // not atomic: every local task runs on the driving thread
    *seen_on = std::this_thread::get_id();
}

TEST(task_local_set, the_chapters_counter_reaches_100_in_about_a_second) {
    auto r = make_runtime();
    auto start = rt::clock::now();
    auto main_thread = std::this_thread::get_id();
    auto [count, ran_on] = r.block_on([]() -> rt::task<std::pair<int, std::thread::id>> {
        auto counter = std::make_shared<int>(0);
        std::thread::id seen_on;
        rt::local_set set;
        for (int i = 0; i < 100; ++i)
            set.spawn_local(sleep_then_increment(counter, &seen_on));
        co_await set;
        co_return std::pair{*counter, seen_on};
    }());
    auto took = rt::clock::now() - start;
    EXPECT_EQ(count, 100);
    EXPECT_EQ(ran_on, main_thread);
    EXPECT_GE(took, 1s);
    EXPECT_LT(took, 1900ms); // the sleeps overlapped
}

rt::task<int> local_work(int v) {
    co_await rt::sleep(2ms);
    auto b = co_await rt::spawn_blocking([v] { return v * 2; }); // woken from another thread
    co_return *b;
}

TEST(task_local_set, run_until_gives_the_value_and_leaves_the_rest_for_later) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::local_set set;
        auto slow = set.spawn_local([]() -> rt::task<int> {
            co_await rt::sleep(30ms);
            co_return 7;
        }());
        EXPECT_EQ(co_await set.run_until(local_work(21)), 42);
        EXPECT_FALSE(slow.is_finished());
        co_await set;
        EXPECT_EQ(*(co_await slow), 7);
        EXPECT_EQ(set.size(), 0u);
    }());
}

TEST(task_local_set, driving_from_a_worker_task_is_refused) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto h = rt::spawn([]() -> rt::task<bool> {
            rt::local_set set;
            set.spawn_local([]() -> rt::task<> { co_return; }());
            try {
                co_await set;
            } catch (const std::logic_error&) {
                co_return true;
            }
            co_return false;
        }());
        EXPECT_TRUE(*(co_await h));
    }());
}

struct counted {
    static inline std::atomic<int> live{0};
    counted() { ++live; }
    ~counted() { --live; }
};

TEST(task_local_set, destroying_the_set_cancels_unfinished_tasks) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::join_handle<void> h;
        {
            rt::local_set set;
            h = set.spawn_local([]() -> rt::task<> {
                counted c;
                co_await rt::sleep(1h);
            }());
            co_await set.run_until([]() -> rt::task<> { co_await rt::sleep(5ms); }());
            EXPECT_EQ(counted::live.load(), 1);
        }
        EXPECT_EQ(counted::live.load(), 0);
        auto res = co_await h;
        EXPECT_TRUE(!res && res.error().is_cancelled());
    }());
}

TEST(task_local_set, many_local_tasks_with_yields_all_complete) {
    auto r = make_runtime();
    int total = r.block_on([]() -> rt::task<int> {
        rt::local_set set;
        auto sum = std::make_shared<int>(0);
        for (int i = 0; i < 1000; ++i) {
            set.spawn_local([](std::shared_ptr<int> s, int k) -> rt::task<> {
                for (int j = 0; j < k % 5; ++j)
                    co_await rt::yield_now();
                *s += 1;
            }(sum, i));
        }
        co_await set;
        co_return *sum;
    }());
    EXPECT_EQ(total, 1000);
}

} // namespace
