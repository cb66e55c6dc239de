// rt::oneshot: the value arrives whether sent before or after the wait, a dropped sender ends the
// wait with an error, a dropped receiver makes send fail with the value back, and a cancelled
// wait loses nothing.
#include <rt/chan/oneshot.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime(std::size_t workers = 2) {
    return rt::runtime::builder().worker_threads(workers).build();
}

template <class F>
void run(rt::runtime& r, F body) {
    r.block_on([](F f) -> rt::task<> {
        auto h = rt::spawn(f());
        auto res = co_await h;
        if (!res)
            res.error().rethrow();
    }(std::move(body)));
}

template <class P>
rt::task<> until(P pred) {
    while (!pred())
        co_await rt::yield_now();
}

TEST(chan_oneshot, a_value_sent_before_the_wait_is_there) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::oneshot::channel<std::string>();
        EXPECT_TRUE(std::move(tx).send("hi"));
        EXPECT_FALSE(tx.valid()); // consumed
        auto v = co_await rx;
        EXPECT_TRUE(v.has_value());
        if (v) {
            EXPECT_EQ(*v, "hi");
        }
        // Taken once: a second wait reports the error.
        EXPECT_FALSE((co_await rx).has_value());
    });
}

TEST(chan_oneshot, a_waiting_receiver_wakes_when_the_value_comes) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        for (int i = 0; i < 200; ++i) {
            auto [tx, rx] = rt::oneshot::channel<int>();
            auto h = rt::spawn([](rt::oneshot::sender<int> out, int v) -> rt::task<> {
                if (v % 2)
                    co_await rt::yield_now();
                EXPECT_TRUE(std::move(out).send(v));
            }(std::move(tx), i));
            auto v = co_await rx;
            EXPECT_EQ(v.value(), i);
            co_await h;
        }
    });
}

TEST(chan_oneshot, a_sender_dropped_without_sending_ends_the_wait_with_an_error) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        {
            auto [tx, rx] = rt::oneshot::channel<int>();
            tx = {};
            auto v = co_await rx;
            EXPECT_FALSE(v.has_value());
            EXPECT_EQ(rx.try_recv().error(), rt::oneshot::try_recv_error::closed);
        }
        {
            auto [tx, rx] = rt::oneshot::channel<int>();
            auto h = rt::spawn([](rt::oneshot::sender<int> out) -> rt::task<> {
                co_await rt::sleep(2ms);
                out = {};
            }(std::move(tx)));
            auto v = co_await rx;
            EXPECT_FALSE(v.has_value());
            if (!v) {
                EXPECT_EQ(v.error(), rt::oneshot::recv_error{});
            }
            co_await h;
        }
    });
}

TEST(chan_oneshot, sending_to_a_dropped_receiver_gives_the_value_back) {
    auto [tx, rx] = rt::oneshot::channel<std::unique_ptr<int>>();
    EXPECT_FALSE(tx.is_closed());
    rx = {};
    EXPECT_TRUE(tx.is_closed());
    auto res = std::move(tx).send(std::make_unique<int>(7));
    ASSERT_FALSE(res);
    ASSERT_TRUE(res.error().value);
    EXPECT_EQ(*res.error().value, 7);
}

TEST(chan_oneshot, try_recv_says_empty_then_gives_the_value) {
    auto [tx, rx] = rt::oneshot::channel<int>();
    EXPECT_EQ(rx.try_recv().error(), rt::oneshot::try_recv_error::empty);
    EXPECT_TRUE(std::move(tx).send(3));
    EXPECT_EQ(rx.try_recv().value(), 3);
    EXPECT_EQ(rx.try_recv().error(), rt::oneshot::try_recv_error::closed);
}

TEST(chan_oneshot, a_cancelled_wait_leaves_the_value_for_the_next_one) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::oneshot::channel<int>();
        auto t = co_await rt::timeout(2ms, rx); // by reference: rx stays usable
        EXPECT_FALSE(t.has_value());
        // Woken by the send, then cancelled before it ran (one worker: we run until the abort).
        std::atomic<bool> started{false};
        auto h =
            rt::spawn([](rt::oneshot::receiver<int>* in, std::atomic<bool>* flag) -> rt::task<int> {
                flag->store(true);
                co_return (co_await *in).value_or(-1);
            }(&rx, &started));
        co_await until([&] { return started.load(); });
        EXPECT_TRUE(std::move(tx).send(9));
        h.abort();
        EXPECT_FALSE((co_await h).has_value());
        // select where the other branch wins although the value is there: with the budget
        // spent, the ready receive yields first, and yield_now (started first) wins.
        while (rt::detail::tls.budget > 0)
            co_await rt::sleep(0ms);
        auto s = co_await rt::select(rt::yield_now(), rx);
        EXPECT_EQ(s.index(), 0u);
        auto v = co_await rx;
        EXPECT_EQ(v.value(), 9);
    });
}

TEST(chan_oneshot, dropping_both_ends_destroys_an_unreceived_value) {
    auto value = std::make_shared<int>(1);
    {
        auto [tx, rx] = rt::oneshot::channel<std::shared_ptr<int>>();
        EXPECT_TRUE(std::move(tx).send(value));
        EXPECT_EQ(value.use_count(), 2);
    }
    EXPECT_EQ(value.use_count(), 1);
    {
        auto [tx, rx] = rt::oneshot::channel<std::shared_ptr<int>>();
        EXPECT_TRUE(std::move(tx).send(value));
        rx = {};
        EXPECT_EQ(value.use_count(), 1);
    }
}

TEST(chan_oneshot, many_pairs_across_workers_deliver_every_value_once) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        constexpr int n = 2000;
        std::vector<rt::oneshot::receiver<int>> rxs;
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < n; ++i) {
            auto [tx, rx] = rt::oneshot::channel<int>();
            rxs.push_back(std::move(rx));
            hs.push_back(rt::spawn([](rt::oneshot::sender<int> out, int v) -> rt::task<> {
                if (v % 3 == 0)
                    co_await rt::yield_now();
                if (v % 7 == 0) {
                    out = {}; // some never send
                    co_return;
                }
                EXPECT_TRUE(std::move(out).send(v));
            }(std::move(tx), i)));
        }
        long sum = 0, expected = 0, errors = 0;
        for (int i = 0; i < n; ++i) {
            auto v = co_await rxs[i];
            if (v)
                sum += *v;
            else
                ++errors;
            if (i % 7 != 0)
                expected += i;
        }
        EXPECT_EQ(sum, expected);
        EXPECT_EQ(errors, (n + 6) / 7);
        for (auto& h : hs)
            co_await h;
    });
}

} // namespace
