// rt::broadcast: every receiver gets every value, lag reports, close, release of read values,
// subscription points, waking, cooperative yielding, and cancellation that loses nothing.
#include <rt/chan/broadcast.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

// Counts live instances, to check what the ring holds.
struct counted {
    static inline std::atomic<int> live{0};
    int v = 0;
    explicit counted(int x) : v(x) { ++live; }
    counted(const counted& o) : v(o.v) { ++live; }
    counted(counted&& o) noexcept : v(o.v) { ++live; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) noexcept = default;
    ~counted() { --live; }
};

TEST(chan_broadcast, every_receiver_gets_every_value_in_order) {
    auto [tx, rx1] = rt::broadcast::channel<int>(16);
    auto rx2 = tx.subscribe();
    for (int i = 0; i < 10; ++i) {
        auto n = tx.send(i);
        ASSERT_TRUE(n.has_value());
        EXPECT_EQ(*n, 2u);
    }
    for (auto* rx : {&rx1, &rx2}) {
        for (int i = 0; i < 10; ++i) {
            auto v = rx->try_recv();
            ASSERT_TRUE(v.has_value());
            EXPECT_EQ(*v, i);
        }
        auto e = rx->try_recv();
        ASSERT_FALSE(e.has_value());
        EXPECT_TRUE(e.error().is_empty());
    }
}

TEST(chan_broadcast, send_without_receivers_gives_the_value_back) {
    auto [tx, rx] = rt::broadcast::channel<std::string>(4);
    { auto gone = std::move(rx); }
    EXPECT_EQ(tx.receiver_count(), 0u);
    auto r = tx.send("hello");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value, "hello");
    auto rx2 = tx.subscribe();
    auto ok = tx.send("again");
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 1u);
    EXPECT_EQ(*rx2.try_recv(), "again");
}

TEST(chan_broadcast, subscribe_resubscribe_and_copy_start_at_the_tail) {
    auto [tx, rx] = rt::broadcast::channel<int>(8);
    tx.send(1);
    tx.send(2);
    auto sub = tx.subscribe();
    auto resub = rx.resubscribe();
    auto copy = rx; // resubscribe semantics: the unread 1 and 2 are not copied
    rt::broadcast::receiver<int> assigned = sub;
    assigned = rx;
    EXPECT_EQ(tx.receiver_count(), 5u);
    EXPECT_EQ(rx.len(), 2u);
    EXPECT_EQ(copy.len(), 0u);
    tx.send(3);
    for (auto* r : {&sub, &resub, &copy, &assigned}) {
        EXPECT_EQ(*r->try_recv(), 3);
        EXPECT_TRUE(r->try_recv().error().is_empty());
    }
    EXPECT_EQ(*rx.try_recv(), 1);
    EXPECT_EQ(*rx.try_recv(), 2);
    EXPECT_EQ(*rx.try_recv(), 3);
    EXPECT_TRUE(sub.same_channel(rx));
}

TEST(chan_broadcast, a_lagging_receiver_is_told_exactly_how_many_it_missed) {
    auto [tx, rx] = rt::broadcast::channel<int>(4);
    auto fast = tx.subscribe();
    tx.send(0);
    EXPECT_EQ(*rx.try_recv(), 0);
    EXPECT_EQ(*fast.try_recv(), 0);
    for (int i = 1; i < 10; ++i) {
        tx.send(i);
        EXPECT_EQ(*fast.try_recv(), i); // a receiver that keeps up never lags
    }
    // rx read 0; 1..5 were overwritten (the ring holds 6..9).
    EXPECT_EQ(rx.len(), 9u);
    auto lag = rx.try_recv();
    ASSERT_FALSE(lag.has_value());
    EXPECT_TRUE(lag.error().is_lagged());
    EXPECT_EQ(lag.error().missed, 5u);
    EXPECT_EQ(rx.len(), 4u);
    for (int i = 6; i < 10; ++i)
        EXPECT_EQ(*rx.try_recv(), i);
    EXPECT_TRUE(rx.try_recv().error().is_empty());
}

TEST(chan_broadcast, recv_reports_the_lag_then_continues_from_the_oldest_value_held) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::broadcast::channel<int>(3);
        for (int i = 0; i < 100; ++i)
            tx.send(i);
        auto lag = co_await rx.recv();
        EXPECT_FALSE(lag.has_value());
        EXPECT_EQ(lag.error(), (rt::broadcast::recv_error{rt::broadcast::recv_error::lagged, 97}));
        for (int i = 97; i < 100; ++i) {
            auto v = co_await rx.recv();
            EXPECT_EQ(*v, i);
        }
        // Lagging again after partly catching up.
        tx.send(100);
        for (int i = 101; i < 110; ++i)
            tx.send(i);
        auto lag2 = co_await rx.recv();
        EXPECT_EQ(lag2.error().missed, 7u); // 100..106 lost, 107..109 held
        EXPECT_EQ(*(co_await rx.recv()), 107);
    }());
}

TEST(chan_broadcast, the_ring_never_holds_more_than_capacity_values) {
    ASSERT_EQ(counted::live.load(), 0);
    {
        auto [tx, rx] = rt::broadcast::channel<counted>(5);
        auto rx2 = tx.subscribe();
        for (int i = 0; i < 1000; ++i) {
            tx.send(counted(i));
            EXPECT_LE(counted::live.load(), 5);
        }
        EXPECT_EQ(tx.len(), 5u);
        EXPECT_EQ(rx.try_recv().error().missed, 995u);
    }
    EXPECT_EQ(counted::live.load(), 0);
}

TEST(chan_broadcast, a_value_is_released_once_every_receiver_read_it_or_left) {
    auto [tx, rx1] = rt::broadcast::channel<std::shared_ptr<int>>(8);
    auto rx2 = tx.subscribe();
    auto p = std::make_shared<int>(7);
    tx.send(p);
    EXPECT_EQ(p.use_count(), 2);
    auto got = rx1.try_recv();
    EXPECT_EQ(p.use_count(), 3); // rx2 still has to read it
    got = rx2.try_recv();        // the last reader gets it moved out
    EXPECT_EQ(p.use_count(), 2);
    got = {};
    EXPECT_EQ(p.use_count(), 1);
    EXPECT_EQ(tx.len(), 0u);

    // A receiver that leaves releases what it had not read.
    tx.send(p);
    tx.send(p);
    EXPECT_EQ(rx1.try_recv()->get(), p.get());
    EXPECT_EQ(p.use_count(), 3);
    { auto gone = std::move(rx2); }
    EXPECT_EQ(p.use_count(), 2); // rx1 still holds the second one back
    EXPECT_EQ(tx.len(), 1u);
    (void)rx1.try_recv();
    EXPECT_EQ(p.use_count(), 1);
}

TEST(chan_broadcast, closing_delivers_what_is_left_then_closed) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::broadcast::channel<int>(4);
        auto tx2 = tx;
        tx.send(1);
        tx2.send(2);
        { auto gone = std::move(tx); }
        EXPECT_FALSE(rx.is_closed());
        { auto gone = std::move(tx2); }
        EXPECT_TRUE(rx.is_closed());
        EXPECT_EQ(*(co_await rx.recv()), 1);
        EXPECT_EQ(*rx.try_recv(), 2);
        auto end = co_await rx.recv();
        EXPECT_TRUE(!end.has_value() && end.error().is_closed());
        EXPECT_TRUE(rx.try_recv().error().is_closed());
    }());
}

TEST(chan_broadcast, the_last_sender_leaving_wakes_waiting_receivers) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::broadcast::channel<int>(4);
        std::vector<rt::join_handle<bool>> hs;
        for (int i = 0; i < 8; ++i) {
            hs.push_back(rt::spawn([](rt::broadcast::receiver<int> in) -> rt::task<bool> {
                auto res = co_await in.recv();
                co_return !res.has_value() && res.error().is_closed();
            }(rx.resubscribe())));
        }
        co_await rt::sleep(10ms); // let them wait (correctness does not depend on it)
        { auto gone = std::move(tx); }
        for (auto& h : hs)
            EXPECT_TRUE(*(co_await h));
    }());
}

TEST(chan_broadcast, waiting_receivers_are_woken_by_a_send) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::broadcast::channel<int>(4);
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < 10; ++i) {
            hs.push_back(rt::spawn([](rt::broadcast::receiver<int> in) -> rt::task<int> {
                int sum = 0;
                for (int k = 0; k < 3; ++k)
                    sum += *(co_await in.recv());
                co_return sum;
            }(tx.subscribe())));
        }
        co_await rt::sleep(5ms);
        for (int i = 1; i <= 3; ++i) {
            EXPECT_EQ(*tx.send(i), 11u);
            co_await rt::yield_now();
        }
        for (auto& h : hs)
            EXPECT_EQ(*(co_await h), 6);
    }());
}

TEST(chan_broadcast, a_send_from_a_thread_outside_the_runtime_wakes_a_waiting_task) {
    auto r = make_runtime();
    auto [tx, rx] = rt::broadcast::channel<int>(2);
    std::thread sender([out = std::move(tx)] {
        for (int i = 0; i < 1000; ++i) {
            // A ring of 2: wait for the receiver to keep up, so that nothing is overwritten.
            while (out.len() == 2)
                std::this_thread::yield();
            out.send(i);
        }
    });
    int sum = r.block_on([](rt::broadcast::receiver<int>* in) -> rt::task<int> {
        int total = 0;
        for (;;) {
            auto v = co_await in->recv();
            if (!v) {
                EXPECT_TRUE(v.error().is_closed());
                co_return total;
            }
            total += *v;
        }
    }(&rx));
    sender.join();
    EXPECT_EQ(sum, 999 * 1000 / 2);
}

TEST(chan_broadcast, a_timed_out_recv_loses_nothing) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::broadcast::channel<int>(4);
        auto t = co_await rt::timeout(5ms, rx.recv());
        EXPECT_FALSE(t.has_value());
        tx.send(42);
        auto v = co_await rt::timeout(1s, rx.recv());
        EXPECT_TRUE(v.has_value() && v->has_value() && **v == 42);
    }());
}

TEST(chan_broadcast, recvs_cancelled_by_select_and_timeout_lose_nothing) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        constexpr int n = 3000;
        auto [tx, rx] = rt::broadcast::channel<int>(n); // nobody lags: every value must arrive
        auto producer = rt::spawn([](rt::broadcast::sender<int> param) -> rt::task<> {
            // A by-value parameter lives as long as the frame, that is, until the join handle is
            // dropped; a local goes at the end of the body, and with it the channel's last sender.
            auto out = std::move(param);
            std::minstd_rand rng(1);
            for (int i = 0; i < n; ++i) {
                out.send(i);
                for (auto k = rng() % 8; k != 0; --k)
                    co_await rt::yield_now();
            }
        }(std::move(tx)));
        std::minstd_rand rng(2);
        int expect = 0;
        int lost_races = 0;
        for (bool open = true; open;) {
            rt::expected<int, rt::broadcast::recv_error> v =
                rt::unexpected(rt::broadcast::recv_error{});
            bool got = false;
            switch (rng() % 3) {
            case 0: { // yield_now wins whenever both are ready at the same poll
                auto res = co_await rt::select(rt::yield_now(), rx.recv());
                if ((got = res.index() == 1))
                    v = std::get<1>(std::move(res));
                break;
            }
            case 1: {
                auto res = co_await rt::select(rx.recv(), rt::yield_now());
                if ((got = res.index() == 0))
                    v = std::get<0>(std::move(res));
                break;
            }
            default: {
                auto res = co_await rt::timeout(std::chrono::microseconds(rng() % 300), rx.recv());
                if ((got = res.has_value()))
                    v = std::move(*res);
                break;
            }
            }
            if (!got) {
                ++lost_races;
                continue;
            }
            if (!v) {
                EXPECT_TRUE(v.error().is_closed());
                open = false;
            } else {
                EXPECT_EQ(*v, expect);
                ++expect;
            }
        }
        EXPECT_EQ(expect, n);
        EXPECT_GT(lost_races, 0);
        co_await producer;
    }());
}

rt::task<> recv_into(rt::broadcast::receiver<int>* rx, std::atomic<int>* out) {
    auto v = co_await rx->recv();
    out->store(v ? *v : -1);
}

TEST(chan_broadcast, an_aborted_recv_leaves_the_value_for_the_next) {
    // One worker, and the test body runs on it: nothing polls the waiter between send and abort.
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            auto [tx, rx] = rt::broadcast::channel<int>(4);
            std::atomic<int> out{0};
            auto h = rt::spawn(recv_into(&rx, &out));
            co_await rt::sleep(5ms);
            tx.send(5); // wakes h...
            h.abort();  // ...which is cancelled before it runs
            auto j = co_await h;
            EXPECT_FALSE(j.has_value());
            EXPECT_EQ(out.load(), 0);
            EXPECT_EQ(*rx.try_recv(), 5);

            // Aborted while still waiting: the waiter is unlinked; the next send is kept.
            auto h2 = rt::spawn(recv_into(&rx, &out));
            co_await rt::sleep(5ms);
            h2.abort();
            (void)co_await h2;
            tx.send(6);
            EXPECT_EQ(*(co_await rx.recv()), 6);
        }());
    }());
}

TEST(chan_broadcast, a_recv_woken_in_a_select_that_another_branch_wins_loses_nothing) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            auto [tx, rx] = rt::broadcast::channel<int>(4);
            rt::notify n;
            auto h =
                rt::spawn([](rt::notify* np, rt::broadcast::receiver<int>* in) -> rt::task<int> {
                    auto res = co_await rt::select(np->notified(), in->recv());
                    co_return static_cast<int>(res.index());
                }(&n, &rx));
            co_await rt::sleep(5ms); // h now waits in both branches
            // Both branches are woken before the only worker polls h; the first one wins and
            // the woken recv is cancelled.
            n.notify_one();
            tx.send(9);
            EXPECT_EQ(*(co_await h), 0);
            auto v = rx.try_recv();
            EXPECT_TRUE(v.has_value() && *v == 9);
        }());
    }());
}

TEST(chan_broadcast, a_loop_of_ready_receives_lets_other_tasks_run) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            constexpr int n = 5000;
            auto [tx, rx] = rt::broadcast::channel<int>(n);
            for (int i = 0; i < n; ++i)
                tx.send(i);
            std::atomic<bool> other_ran{false};
            auto other = rt::spawn([](std::atomic<bool>* f) -> rt::task<> {
                f->store(true);
                co_return;
            }(&other_ran));
            bool ran_before_the_end = false;
            for (int i = 0; i < n; ++i) {
                EXPECT_EQ(*(co_await rx.recv()), i);
                ran_before_the_end = ran_before_the_end || other_ran.load();
            }
            EXPECT_TRUE(ran_before_the_end);
            co_await other;
        }());
    }());
}

TEST(chan_broadcast, a_receive_out_of_budget_yields_without_taking_the_value) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::broadcast::channel<int>(4);
        int yields_won = 0;
        for (int i = 0; i < 1000; ++i) {
            tx.send(i);
            // A ready recv completes at once until the poll's budget runs out; then it yields,
            // and yield_now (first) wins. The value must still be in the channel then.
            auto res = co_await rt::select(rt::yield_now(), rx.recv());
            if (res.index() == 1) {
                EXPECT_EQ(*std::get<1>(res), i);
                continue;
            }
            ++yields_won;
            auto v = rx.try_recv();
            EXPECT_TRUE(v.has_value() && *v == i);
        }
        EXPECT_GT(yields_won, 0);
    }());
}

TEST(chan_broadcast, capacity_zero_is_rejected) {
    EXPECT_THROW((void)rt::broadcast::channel<int>(0), std::invalid_argument);
}

TEST(chan_broadcast, many_senders_and_receivers_agree_on_one_order) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        constexpr int senders = 4, receivers = 4, per_sender = 500;
        constexpr int total = senders * per_sender;
        auto [tx, rx] = rt::broadcast::channel<int>(total); // big enough: nobody lags
        std::vector<rt::join_handle<std::vector<int>>> rs;
        for (int i = 0; i < receivers; ++i) {
            rs.push_back(rt::spawn(
                [](rt::broadcast::receiver<int> in, unsigned seed) -> rt::task<std::vector<int>> {
                    std::minstd_rand rng(seed);
                    std::vector<int> got;
                    for (;;) {
                        if (rng() % 4 == 0)
                            co_await rt::yield_now();
                        auto v = co_await in.recv();
                        if (!v) {
                            EXPECT_TRUE(v.error().is_closed());
                            break;
                        }
                        got.push_back(*v);
                    }
                    co_return got;
                }(tx.subscribe(), 100u + static_cast<unsigned>(i))));
        }
        { auto own = std::move(rx); }
        std::vector<rt::join_handle<void>> ss;
        for (int s = 0; s < senders; ++s) {
            ss.push_back(rt::spawn(
                [](rt::broadcast::sender<int> param, int id, unsigned seed) -> rt::task<> {
                    auto out = std::move(param); // gone when the body ends (see above)
                    std::minstd_rand rng(seed);
                    for (int k = 0; k < per_sender; ++k) {
                        EXPECT_TRUE(out.send(id * per_sender + k).has_value());
                        if (rng() % 3 == 0)
                            co_await rt::yield_now();
                    }
                }(tx, s, static_cast<unsigned>(s))));
        }
        { auto own = std::move(tx); }
        for (auto& h : ss)
            co_await h;
        std::vector<int> first;
        for (auto& h : rs) {
            auto got = *(co_await h);
            EXPECT_EQ(got.size(), static_cast<std::size_t>(total));
            if (got.size() != static_cast<std::size_t>(total))
                co_return;
            std::vector<int> last(senders, -1);
            std::vector<int> seen(total, 0);
            for (int v : got) {
                ++seen[v];
                EXPECT_GT(v % per_sender, last[v / per_sender]); // FIFO per sender
                last[v / per_sender] = v % per_sender;
            }
            for (int c : seen)
                EXPECT_EQ(c, 1);
            if (first.empty())
                first = got;
            else
                EXPECT_EQ(got, first); // one order for everybody
        }
    }());
}

} // namespace
