// RT_TASK_LOCAL: scope, get, with, nesting, migration across workers, isolation, errors.
#include <rt/rt.hpp>
#include <rt/task/task_local.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

RT_TASK_LOCAL(int, NUM);
RT_TASK_LOCAL(std::string, NAME);

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

rt::task<int> read_num() {
    co_return NUM.get();
}

rt::task<std::string> read_name() {
    co_return NAME.with([](std::string& n) { return "NAME = " + n; });
}

TEST(task_local, the_chapters_examples) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        EXPECT_EQ(co_await NUM.scope(1, read_num()), 1);
        EXPECT_EQ(co_await NUM.scope(2, read_num()), 2);
        EXPECT_EQ(co_await NAME.scope("A", read_name()), "NAME = A");
        EXPECT_EQ(co_await NAME.scope("B", read_name()), "NAME = B");
    }());
}

TEST(task_local, outside_a_scope_is_a_clear_error) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        try {
            (void)NUM.get();
            ADD_FAILURE() << "no exception";
        } catch (const std::logic_error& e) {
            EXPECT_NE(std::string(e.what()).find("NUM"), std::string::npos);
        }
        EXPECT_EQ(NUM.try_get(), nullptr);
        co_return;
    }());
    EXPECT_THROW((void)NUM.get(), std::logic_error); // not even in a task
}

rt::task<std::vector<int>> nested_reads() {
    std::vector<int> seen;
    seen.push_back(NUM.get());
    seen.push_back(co_await NUM.scope(20, read_num()));
    seen.push_back(NUM.get()); // the inner scope ended
    co_return seen;
}

TEST(task_local, scopes_nest_and_restore) {
    auto r = make_runtime();
    auto seen = r.block_on(NUM.scope(10, nested_reads()));
    EXPECT_EQ(seen, (std::vector<int>{10, 20, 10}));
}

rt::task<int> read_after_migrating() {
    int sum = 0;
    for (int i = 0; i < 20; ++i) {
        co_await rt::sleep(1ms); // may resume on the other worker
        co_await rt::yield_now();
        sum += NUM.get();
    }
    co_return sum;
}

rt::task<int> scoped_in_a_spawned_task(int v) {
    co_return co_await NUM.scope(v, read_after_migrating());
}

TEST(task_local, follows_the_task_across_workers_and_stays_private) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < 50; ++i)
            hs.push_back(rt::spawn(scoped_in_a_spawned_task(i)));
        for (int i = 0; i < 50; ++i)
            EXPECT_EQ(*(co_await hs[i]), 20 * i);
    }());
}

rt::task<bool> spawned_sees_nothing() {
    auto h = rt::spawn([]() -> rt::task<bool> { co_return NUM.try_get() == nullptr; }());
    co_return *(co_await h);
}

TEST(task_local, spawned_tasks_do_not_inherit) {
    auto r = make_runtime();
    EXPECT_TRUE(r.block_on(NUM.scope(5, spawned_sees_nothing())));
}

TEST(task_local, select_branches_see_the_enclosing_scope) {
    auto r = make_runtime();
    auto body = []() -> rt::task<int> {
        auto res = co_await rt::select(read_after_migrating(), rt::sleep(10s));
        co_return std::get<0>(res);
    };
    EXPECT_EQ(r.block_on(NUM.scope(3, body())), 60);
}

TEST(task_local, a_cancelled_scope_unbinds) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto res = co_await rt::timeout(5ms, NUM.scope(7, read_after_migrating()));
        EXPECT_FALSE(res.has_value());
        EXPECT_EQ(NUM.try_get(), nullptr);
    }());
}

} // namespace
