// rt::task<T> on its own and under block_on: laziness, values, exceptions, symmetric transfer.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

rt::task<int> value_of(int v) {
    co_return v;
}

rt::task<int> sum_of_two() {
    int a = co_await value_of(20);
    int b = co_await value_of(22);
    co_return a + b;
}

rt::task<> set_flag(bool& flag) {
    flag = true;
    co_return;
}

rt::task<int> thrower() {
    throw std::runtime_error("boom");
    co_return 0;
}

rt::task<std::unique_ptr<int>> move_only() {
    co_return std::make_unique<int>(7);
}

rt::task<int> chain(int depth) {
    if (depth == 0)
        co_return 0;
    co_return 1 + co_await chain(depth - 1);
}

rt::task<long> many_synchronous(int n) {
    long total = 0;
    for (int i = 0; i < n; ++i)
        total += co_await value_of(1);
    co_return total;
}

TEST(rt_task, does_not_start_until_awaited) {
    auto r = make_runtime();
    bool flag = false;
    {
        auto t = set_flag(flag);
        EXPECT_FALSE(flag);
    }
    EXPECT_FALSE(flag); // destroyed without ever running
    r.block_on(set_flag(flag));
    EXPECT_TRUE(flag);
}

TEST(rt_task, awaiting_gives_the_value) {
    auto r = make_runtime();
    EXPECT_EQ(r.block_on(sum_of_two()), 42);
    EXPECT_EQ(*r.block_on(move_only()), 7);
}

TEST(rt_task, exception_propagates_to_the_awaiter) {
    auto r = make_runtime();
    auto catcher = []() -> rt::task<std::string> {
        try {
            co_await thrower();
        } catch (const std::runtime_error& e) {
            co_return e.what();
        }
        co_return "no exception";
    };
    EXPECT_EQ(r.block_on(catcher()), "boom");
    EXPECT_THROW(r.block_on(thrower()), std::runtime_error);
}

TEST(rt_task, a_million_synchronous_completions_do_not_overflow_the_stack) {
    auto r = make_runtime();
    EXPECT_EQ(r.block_on(many_synchronous(1'000'000)), 1'000'000);
}

TEST(rt_task, deep_recursion_through_awaits) {
    auto r = make_runtime();
    EXPECT_EQ(r.block_on(chain(10'000)), 10'000);
}

TEST(rt_task, run_is_a_one_line_main) {
    EXPECT_EQ(rt::run(value_of(3)), 3);
}

TEST(rt_task, block_on_inside_a_runtime_is_an_error) {
    auto r = make_runtime();
    auto nested = [](rt::runtime* other) -> rt::task<bool> {
        try {
            other->block_on(value_of(1));
        } catch (const std::logic_error&) {
            co_return true;
        }
        co_return false;
    };
    auto r2 = make_runtime();
    EXPECT_TRUE(r.block_on(nested(&r2)));
}

} // namespace
