// rt::mpsc: order, bounds, FIFO service of waiting senders, close and drop, cancellation through
// select / timeout / abort with no message lost or sent twice, and cooperative yielding.
//
// Producers that own a sender as a parameter reset it at the end of their body, so the end of the
// stream the receiver waits for does not depend on when the runtime frees a finished task's frame.
#include <rt/chan/mpsc.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime(std::size_t workers = 2) {
    return rt::runtime::builder().worker_threads(workers).build();
}

// Runs `body` as a task on a worker (so spawns are local and one worker means one thread).
template <class F>
void run(rt::runtime& r, F body) {
    r.block_on([](F f) -> rt::task<> {
        auto h = rt::spawn(f());
        auto res = co_await h;
        if (!res)
            res.error().rethrow();
    }(std::move(body)));
}

// Counts live messages (a move hands the message over), to prove every message is destroyed
// exactly once.
struct counted {
    static inline std::atomic<long> live{0};
    int v = 0;
    bool owns = true;
    explicit counted(int x) : v(x) { live.fetch_add(1); }
    counted(counted&& o) noexcept : v(o.v), owns(std::exchange(o.owns, false)) {}
    counted& operator=(counted&&) = delete;
    ~counted() {
        if (owns)
            live.fetch_sub(1);
    }
};

// Yields until `pred` holds; with one worker, a task that was seen to start has run until it
// suspended by the time we run again.
template <class P>
rt::task<> until(P pred) {
    while (!pred())
        co_await rt::yield_now();
}

TEST(chan_mpsc, bounded_messages_arrive_in_order_and_the_stream_ends_with_the_senders) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(4);
        EXPECT_EQ(tx.capacity(), 4u);
        auto producer = rt::spawn([](rt::mpsc::sender<int> out) -> rt::task<> {
            for (int i = 0; i < 1000; ++i)
                EXPECT_TRUE(co_await out.send(i));
            out = {}; // the stream ends here (see the top of the file)
        }(tx));
        tx = {}; // only the producer's copy is left
        for (int i = 0; i < 1000; ++i) {
            auto v = co_await rx.recv();
            EXPECT_EQ(v, i);
        }
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
        EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::closed);
        co_await producer;
    });
}

TEST(chan_mpsc, copies_are_live_senders_and_moved_from_ones_are_not) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(8);
        auto copy = tx;
        auto moved = std::move(tx);
        EXPECT_FALSE(tx.valid());
        EXPECT_TRUE(co_await copy.send(1));
        moved = {};
        EXPECT_EQ(rx.try_recv().value(), 1);
        EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::empty);
        EXPECT_FALSE(rx.is_closed()); // `copy` is still live
        copy = {};
        EXPECT_TRUE(rx.is_closed());
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
    });
}

TEST(chan_mpsc, try_send_reports_full_and_closed_and_gives_the_message_back) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<std::string>(2);
        EXPECT_TRUE(tx.try_send("a"));
        EXPECT_TRUE(tx.try_send("b"));
        auto full = tx.try_send("c");
        EXPECT_FALSE(full);
        if (!full) {
            EXPECT_TRUE(full.error().is_full());
            EXPECT_EQ(full.error().value, "c");
        }
        EXPECT_EQ(*co_await rx.recv(), "a");
        EXPECT_TRUE(tx.try_send("c"));
        rx.close();
        auto closed = tx.try_send("d");
        EXPECT_FALSE(closed);
        if (!closed) {
            EXPECT_TRUE(closed.error().is_closed());
            EXPECT_EQ(closed.error().value, "d");
        }
        auto sent = co_await tx.send("e");
        EXPECT_FALSE(sent);
        if (!sent) {
            EXPECT_EQ(sent.error().value, "e");
        }
        EXPECT_TRUE(tx.is_closed());
        // Queued messages are still received after close().
        EXPECT_EQ(*co_await rx.recv(), "b");
        EXPECT_EQ(*co_await rx.recv(), "c");
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
    });
}

TEST(chan_mpsc, a_bounded_channel_never_holds_more_than_its_capacity) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        constexpr int cap = 3, n = 2000;
        auto [tx, rx] = rt::mpsc::channel<int>(cap);
        std::atomic<int> sent{0};
        auto producer =
            rt::spawn([](rt::mpsc::sender<int> out, std::atomic<int>* sent_count) -> rt::task<> {
                for (int i = 0; i < n; ++i) {
                    EXPECT_TRUE(co_await out.send(i));
                    sent_count->fetch_add(1);
                }
            }(std::move(tx), &sent));
        std::mt19937 rng(7);
        for (int i = 0; i < n; ++i) {
            for (unsigned k = rng() % 3; k > 0; --k)
                co_await rt::yield_now();
            // Every completed send is either received or queued: at most `cap` queued.
            EXPECT_LE(sent.load() - i, cap);
            EXPECT_EQ(co_await rx.recv(), i);
        }
        co_await producer;
    });
}

TEST(chan_mpsc, dropping_the_receiver_fails_waiting_senders_and_destroys_queued_messages) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        {
            auto [tx, rx] = rt::mpsc::channel<counted>(2);
            EXPECT_TRUE(co_await tx.send(counted(1)));
            EXPECT_TRUE(co_await tx.send(counted(2)));
            std::atomic<bool> started{false};
            auto waiting = rt::spawn(
                [](rt::mpsc::sender<counted> out, std::atomic<bool>* flag) -> rt::task<int> {
                    flag->store(true);
                    auto res = co_await out.send(counted(3));
                    co_return res ? -1 : res.error().value.v;
                }(tx, &started));
            co_await until([&] { return started.load(); });
            EXPECT_EQ(counted::live.load(), 3);
            { auto gone = std::move(rx); }
            EXPECT_EQ(counted::live.load(), 1); // queued ones destroyed; 3 is in the send
            auto back = co_await waiting;
            EXPECT_EQ(back.value(), 3);
            EXPECT_TRUE(tx.is_closed());
        }
        EXPECT_EQ(counted::live.load(), 0);
    });
}

TEST(chan_mpsc, messages_left_in_a_dropped_channel_are_destroyed) {
    {
        auto [tx, rx] = rt::mpsc::channel<counted>(16);
        for (int i = 0; i < 10; ++i)
            ASSERT_TRUE(tx.try_send(counted(i)));
        auto [utx, urx] = rt::mpsc::unbounded_channel<counted>();
        for (int i = 0; i < 1000; ++i) // many blocks
            ASSERT_TRUE(utx.send(counted(i)));
        EXPECT_EQ(counted::live.load(), 1010);
    }
    EXPECT_EQ(counted::live.load(), 0);
    {
        // Receiver first, senders later: messages sent in between fail and come back.
        auto [utx, urx] = rt::mpsc::unbounded_channel<counted>();
        ASSERT_TRUE(utx.send(counted(1)));
        urx = {};
        auto res = utx.send(counted(2));
        ASSERT_FALSE(res);
        EXPECT_EQ(res.error().value.v, 2);
    }
    EXPECT_EQ(counted::live.load(), 0);
}

TEST(chan_mpsc, waiting_senders_are_served_first_come_first_served) {
    // One worker: a task seen to have started has run until it suspended.
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        constexpr int waiters = 8;
        auto [tx, rx] = rt::mpsc::channel<int>(1);
        EXPECT_TRUE(tx.try_send(0));
        std::atomic<int> started{0};
        std::vector<rt::join_handle<void>> hs;
        for (int k = 1; k <= waiters; ++k) {
            hs.push_back(rt::spawn(
                [](rt::mpsc::sender<int> out, int id, std::atomic<int>* flag) -> rt::task<> {
                    flag->fetch_add(1);
                    EXPECT_TRUE(co_await out.send(id));
                }(tx, k, &started)));
            co_await until([&] { return started.load() == k; });
        }
        for (int k = 0; k <= waiters; ++k) {
            EXPECT_EQ(co_await rx.recv(), k);
            // The room just freed belongs to the next waiter: a newcomer may not take it.
            if (k < waiters) {
                auto barge = tx.try_send(100);
                EXPECT_FALSE(barge);
                if (!barge) {
                    EXPECT_TRUE(barge.error().is_full());
                }
            }
        }
        for (auto& h : hs)
            co_await h;
        EXPECT_TRUE(tx.try_send(100));
        EXPECT_EQ(co_await rx.recv(), 100);
    });
}

TEST(chan_mpsc, a_send_that_started_later_comes_after_the_waiting_ones) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(2);
        EXPECT_TRUE(tx.try_send(0));
        EXPECT_TRUE(tx.try_send(1));
        std::atomic<int> started{0};
        auto sender_task = [](rt::mpsc::sender<int> out, int v,
                              std::atomic<int>* flag) -> rt::task<> {
            flag->fetch_add(1);
            EXPECT_TRUE(co_await out.send(v));
        };
        auto a = rt::spawn(sender_task(tx, 2, &started));
        co_await until([&] { return started.load() == 1; });
        auto b = rt::spawn(sender_task(tx, 3, &started));
        co_await until([&] { return started.load() == 2; });
        // Both slots go to the two waiters, in order, before either has run again; the late
        // sender (which the one worker runs first) queues behind them.
        EXPECT_EQ(co_await rx.recv(), 0);
        EXPECT_EQ(co_await rx.recv(), 1);
        auto late = rt::spawn(sender_task(tx, 4, &started));
        for (int want = 2; want <= 4; ++want)
            EXPECT_EQ(co_await rx.recv(), want);
        co_await a;
        co_await b;
        co_await late;
    });
}

TEST(chan_mpsc, a_send_cancelled_while_waiting_has_sent_nothing) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<counted>(1);
        EXPECT_TRUE(co_await tx.send(counted(1)));
        // timeout
        auto t = co_await rt::timeout(2ms, tx.send(counted(2)));
        EXPECT_FALSE(t.has_value());
        // select against something that wins
        auto s = co_await rt::select(tx.send(counted(3)), rt::yield_now());
        EXPECT_EQ(s.index(), 1u);
        // abort of a task waiting in send
        std::atomic<bool> started{false};
        auto h =
            rt::spawn([](rt::mpsc::sender<counted> out, std::atomic<bool>* flag) -> rt::task<> {
                flag->store(true);
                (void)co_await out.send(counted(4));
            }(tx, &started));
        co_await until([&] { return started.load(); });
        h.abort();
        auto j = co_await h;
        EXPECT_FALSE(j.has_value());
        EXPECT_EQ(counted::live.load(), 1);
        EXPECT_EQ((*co_await rx.recv()).v, 1);
        EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::empty);
        // The cancelled sends left no waiter or permit behind: the room is there again.
        EXPECT_TRUE(tx.try_send(counted(5)));
        EXPECT_FALSE(tx.try_send(counted(6)));
        EXPECT_EQ((*co_await rx.recv()).v, 5);
    });
    EXPECT_EQ(counted::live.load(), 0);
}

TEST(chan_mpsc, a_woken_send_that_is_cancelled_passes_its_room_to_the_next_waiter) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(1);
        EXPECT_TRUE(tx.try_send(0));
        std::atomic<int> started{0};
        auto sender_task = [](rt::mpsc::sender<int> out, int v,
                              std::atomic<int>* flag) -> rt::task<> {
            flag->fetch_add(1);
            (void)co_await out.send(v);
        };
        auto first = rt::spawn(sender_task(tx, 1, &started));
        co_await until([&] { return started.load() == 1; });
        auto second = rt::spawn(sender_task(tx, 2, &started));
        co_await until([&] { return started.load() == 2; });
        EXPECT_EQ(co_await rx.recv(), 0); // grants the slot to `first` and wakes it...
        first.abort();                    // ...which is cancelled before the only worker runs it
        co_await first;
        EXPECT_EQ(co_await rx.recv(), 2); // only if the room was handed on
        co_await second;
        EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::empty);
    });
}

TEST(chan_mpsc, a_cancelled_send_whose_place_was_reserved_leaves_no_trace) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(2);
        EXPECT_TRUE(tx.try_send(0));
        EXPECT_TRUE(tx.try_send(1));
        std::atomic<int> started{0};
        auto sender_task = [](rt::mpsc::sender<int> out, int v,
                              std::atomic<int>* flag) -> rt::task<> {
            flag->fetch_add(1);
            (void)co_await out.send(v);
        };
        auto a = rt::spawn(sender_task(tx, 2, &started));
        co_await until([&] { return started.load() == 1; });
        auto b = rt::spawn(sender_task(tx, 3, &started));
        co_await until([&] { return started.load() == 2; });
        EXPECT_EQ(co_await rx.recv(), 0); // reserves the next place for `a`...
        EXPECT_EQ(co_await rx.recv(), 1); // ...and the one after it for `b`
        // `a` is cancelled before it writes, while we wait at its place: the place is stepped
        // over (on our behalf) and `b`'s message is the next one.
        auto killer = rt::spawn([](rt::join_handle<void>* victim) -> rt::task<> {
            victim->abort();
            co_return;
        }(&a));
        EXPECT_EQ(co_await rx.recv(), 3);
        co_await killer;
        EXPECT_FALSE((co_await a).has_value());
        co_await b;
        EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::empty);
        // All the room is there again.
        EXPECT_TRUE(tx.try_send(4));
        EXPECT_TRUE(tx.try_send(5));
        EXPECT_FALSE(tx.try_send(6));
        EXPECT_EQ(co_await rx.recv(), 4);
        EXPECT_EQ(co_await rx.recv(), 5);
    });
}

TEST(chan_mpsc, a_yielding_send_that_is_cancelled_has_sent_nothing) {
    // A send that finds room when its task's budget is spent yields first, holding a permit;
    // cancelled then, it must send nothing and give the permit back.
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        constexpr int cap = 4;
        auto [tx, rx] = rt::mpsc::channel<int>(cap);
        auto [burn_tx, burn_rx] = rt::mpsc::unbounded_channel<int>();
        int cancelled = 0, sent = 0;
        for (int i = 0; i < 200; ++i) {
            if (i % 2 == 0) {
                // Spend the whole budget on receives that are ready at once.
                while (rt::detail::tls.budget > 0) {
                    EXPECT_TRUE(burn_tx.send(0));
                    (void)co_await burn_rx.recv();
                }
            }
            // yield_now comes first, so it wins whenever the send had to yield too.
            auto s = co_await rt::select(rt::yield_now(), tx.send(i));
            if (s.index() == 1) {
                EXPECT_TRUE(std::get<1>(s));
                EXPECT_EQ(co_await rx.recv(), i);
                ++sent;
            } else {
                ++cancelled;
                // Nothing was sent, and the place it held is free again at once.
                for (int k = 0; k < cap; ++k)
                    EXPECT_TRUE(tx.try_send(-1));
                EXPECT_FALSE(tx.try_send(-1));
                for (int k = 0; k < cap; ++k)
                    EXPECT_EQ(rx.try_recv().value(), -1);
                EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::empty);
            }
        }
        EXPECT_EQ(cancelled, 100);
        EXPECT_EQ(sent, 100);
        for (int k = 0; k < cap; ++k) // no permit leaked: all the room is there
            EXPECT_TRUE(tx.try_send(k));
        EXPECT_FALSE(tx.try_send(cap));
    });
}

TEST(chan_mpsc, a_ready_receive_that_must_yield_and_loses_the_race_takes_nothing) {
    // A receive that finds a message when its task's budget is spent yields before taking it;
    // cancelled then, the message must still be there.
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(4);
        auto [utx, urx] = rt::mpsc::unbounded_channel<int>();
        int lost = 0;
        for (int i = 0; i < 200; ++i) {
            EXPECT_TRUE(tx.try_send(i));
            EXPECT_TRUE(utx.send(i));
            if (i % 2 == 0) {
                while (rt::detail::tls.budget > 0)
                    co_await rt::sleep(0ms);
            }
            // yield_now comes first, so it wins whenever a receive had to yield too.
            auto s = co_await rt::select(rt::yield_now(), rx.recv(), urx.recv());
            if (s.index() == 0) {
                ++lost;
                EXPECT_EQ(rx.try_recv().value(), i);
                EXPECT_EQ(urx.try_recv().value(), i);
            } else {
                EXPECT_EQ(s.index(), 1u);
                EXPECT_EQ(std::get<1>(s), i);
                EXPECT_EQ(urx.try_recv().value(), i); // the third branch never started
            }
        }
        EXPECT_EQ(lost, 100);
    });
}

TEST(chan_mpsc, receives_cancelled_by_select_and_timeout_lose_no_message) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        constexpr int n = 20000;
        for (std::size_t cap : {std::size_t{1}, std::size_t{64}}) {
            auto [tx, rx] = rt::mpsc::channel<int>(cap);
            auto producer = rt::spawn([](rt::mpsc::sender<int> out) -> rt::task<> {
                std::mt19937 rng(3);
                for (int i = 0; i < n; ++i) {
                    if (rng() % 8 == 0)
                        co_await rt::yield_now();
                    EXPECT_TRUE(co_await out.send(i));
                }
                out = {}; // the stream ends here (see the top of the file)
            }(std::move(tx)));
            int next = 0, lost_races = 0;
            while (next < n) {
                // Both branches can be ready at once; a receive that loses must leave its
                // message queued.
                auto s = co_await rt::select(rx.recv(), rt::yield_now());
                if (s.index() == 0) {
                    EXPECT_EQ(std::get<0>(s), next);
                    ++next;
                } else {
                    ++lost_races;
                    auto t = co_await rt::timeout(0ms, rx.recv());
                    if (t) {
                        EXPECT_EQ(*t, next);
                        ++next;
                    }
                }
            }
            EXPECT_EQ(co_await rx.recv(), std::nullopt);
            co_await producer;
            ::testing::Test::RecordProperty("lost_races_cap" + std::to_string(cap), lost_races);
        }
    });
}

TEST(chan_mpsc, an_aborted_receive_leaves_the_message_for_the_next_one) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::channel<int>(4);
        std::atomic<bool> started{false};
        auto h =
            rt::spawn([](rt::mpsc::receiver<int>* in, std::atomic<bool>* flag) -> rt::task<int> {
                flag->store(true);
                co_return (co_await in->recv()).value_or(-1);
            }(&rx, &started));
        co_await until([&] { return started.load(); });
        EXPECT_TRUE(tx.try_send(42)); // wakes the receive...
        h.abort();                    // ...which is cancelled before it runs
        EXPECT_FALSE((co_await h).has_value());
        EXPECT_EQ(rx.try_recv().value(), 42);
    });
}

TEST(chan_mpsc, unbounded_send_never_waits_and_keeps_order_across_blocks) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::unbounded_channel<std::string>();
        for (int i = 0; i < 5000; ++i)
            EXPECT_TRUE(tx.send(std::to_string(i)));
        auto producer = rt::spawn([](rt::mpsc::unbounded_sender<std::string> out) -> rt::task<> {
            for (int i = 5000; i < 20000; ++i) {
                EXPECT_TRUE(out.send(std::to_string(i)));
                if (i % 100 == 0)
                    co_await rt::yield_now();
            }
            out = {}; // the stream ends here (see the top of the file)
        }(std::move(tx)));
        for (int i = 0; i < 20000; ++i)
            EXPECT_EQ(*co_await rx.recv(), std::to_string(i));
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
        co_await producer;
    });
}

TEST(chan_mpsc, unbounded_close_stops_sends_and_keeps_what_is_queued) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        auto [tx, rx] = rt::mpsc::unbounded_channel<int>();
        EXPECT_TRUE(tx.send(1));
        EXPECT_TRUE(tx.send(2));
        rx.close();
        EXPECT_TRUE(tx.is_closed());
        auto res = tx.send(3);
        EXPECT_FALSE(res);
        if (!res) {
            EXPECT_EQ(res.error().value, 3);
        }
        EXPECT_EQ(co_await rx.recv(), 1);
        EXPECT_EQ(rx.try_recv().value(), 2);
        EXPECT_EQ(rx.try_recv().error(), rt::mpsc::try_recv_error::closed);
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
    });
}

TEST(chan_mpsc, a_waiting_receive_wakes_on_send_and_on_the_last_sender_leaving) {
    auto r = make_runtime();
    run(r, []() -> rt::task<> {
        {
            auto [tx, rx] = rt::mpsc::channel<int>(1);
            auto h = rt::spawn([](rt::mpsc::sender<int> out) -> rt::task<> {
                co_await rt::sleep(5ms);
                (void)co_await out.send(5);
                co_await rt::sleep(5ms);
                out = {}; // the stream ends here (see the top of the file)
            }(std::move(tx)));
            EXPECT_EQ(co_await rx.recv(), 5);
            EXPECT_EQ(co_await rx.recv(), std::nullopt); // the producer's sender dropped
            co_await h;
        }
        {
            auto [tx, rx] = rt::mpsc::unbounded_channel<int>();
            auto h = rt::spawn([](rt::mpsc::unbounded_sender<int> out) -> rt::task<> {
                co_await rt::sleep(5ms);
                EXPECT_TRUE(out.send(6));
                out = {}; // the stream ends here (see the top of the file)
            }(std::move(tx)));
            EXPECT_EQ(co_await rx.recv(), 6);
            EXPECT_EQ(co_await rx.recv(), std::nullopt);
            co_await h;
        }
    });
}

// Many producers on both workers, random yields: every message exactly once, FIFO per sender.
template <bool Bounded>
void many_producers(std::size_t cap) {
    auto r = make_runtime();
    run(r, [cap]() -> rt::task<> {
        constexpr int producers = 8, per = 5000;
        const std::size_t c = cap; // the bounded channel's capacity; unused when unbounded
        auto chan = [c] {
            if constexpr (Bounded)
                return rt::mpsc::channel<std::uint64_t>(c);
            else
                return (void)c, rt::mpsc::unbounded_channel<std::uint64_t>();
        }();
        auto& [tx, rx] = chan;
        using sender_t = std::remove_cvref_t<decltype(tx)>;
        std::vector<rt::join_handle<void>> hs;
        for (int p = 0; p < producers; ++p) {
            hs.push_back(rt::spawn([](sender_t out, int id) -> rt::task<> {
                std::mt19937 rng{unsigned(id)};
                for (int i = 0; i < per; ++i) {
                    if (rng() % 16 == 0)
                        co_await rt::yield_now();
                    std::uint64_t m = (std::uint64_t(id) << 32) | unsigned(i);
                    if constexpr (Bounded)
                        EXPECT_TRUE(co_await out.send(m));
                    else
                        EXPECT_TRUE(out.send(m));
                }
                out = {}; // the stream ends here (see the top of the file)
            }(tx, p)));
        }
        tx = {};
        std::vector<int> next(producers, 0);
        int total = 0;
        while (auto m = co_await rx.recv()) {
            int p = int(*m >> 32), i = int(*m & 0xffffffffu);
            EXPECT_EQ(i, next[p]) << "producer " << p;
            next[p] = i + 1;
            ++total;
        }
        EXPECT_EQ(total, producers * per);
        for (auto& h : hs)
            co_await h;
    });
}

TEST(chan_mpsc, many_producers_bounded_1) {
    many_producers<true>(1);
}
TEST(chan_mpsc, many_producers_bounded_7) {
    many_producers<true>(7);
}
TEST(chan_mpsc, many_producers_bounded_1024) {
    many_producers<true>(1024);
}
TEST(chan_mpsc, many_producers_unbounded) {
    many_producers<false>(0);
}

TEST(chan_mpsc, a_busy_receive_loop_lets_other_tasks_run) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        constexpr int n = 20000;
        auto [tx, rx] = rt::mpsc::unbounded_channel<int>();
        for (int i = 0; i < n; ++i)
            EXPECT_TRUE(tx.send(i));
        std::atomic<bool> ran{false};
        auto other = rt::spawn([](std::atomic<bool>* flag) -> rt::task<> {
            flag->store(true);
            co_return;
        }(&ran));
        int seen_at = -1;
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(co_await rx.recv(), i);
            if (seen_at < 0 && ran.load())
                seen_at = i;
        }
        EXPECT_GE(seen_at, 0) << "recv never yielded";
        co_await other;
    });
}

TEST(chan_mpsc, a_busy_send_loop_lets_other_tasks_run) {
    auto r = make_runtime(1);
    run(r, []() -> rt::task<> {
        constexpr int n = 20000;
        auto [tx, rx] = rt::mpsc::channel<int>(n);
        std::atomic<bool> ran{false};
        auto other = rt::spawn([](std::atomic<bool>* flag) -> rt::task<> {
            flag->store(true);
            co_return;
        }(&ran));
        int seen_at = -1;
        for (int i = 0; i < n; ++i) {
            EXPECT_TRUE(co_await tx.send(i));
            if (seen_at < 0 && ran.load())
                seen_at = i;
        }
        EXPECT_GE(seen_at, 0) << "send never yielded";
        for (int i = 0; i < n; ++i)
            EXPECT_EQ(rx.try_recv().value(), i);
        co_await other;
    });
}

TEST(chan_mpsc, capacity_zero_is_rejected) {
    EXPECT_THROW((void)rt::mpsc::channel<int>(0), std::invalid_argument);
}

} // namespace
