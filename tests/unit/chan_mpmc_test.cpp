// rt::mpmc: bounded and unbounded channels, close and drop, FIFO service of waiting receivers and
// senders, cancellation that loses nothing, cooperative yielding, many producers and consumers,
// and the chapter's worker-pool program.
#include <rt/chan/mpmc.hpp>
#include <rt/rt.hpp>
#include <rt/sync/notify.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// GoogleTest's ASSERT_* return from the function, which a coroutine cannot do.
#define CO_ASSERT_TRUE(cond)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ADD_FAILURE() << "expected: " #cond;                                                   \
            co_return;                                                                             \
        }                                                                                          \
    } while (0)
#define CO_ASSERT_FALSE(cond) CO_ASSERT_TRUE(!(cond))

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

// Runs `body` as a task on a one-worker runtime. With the test body on the only worker nothing
// else runs until it awaits, so "let the others run until they wait" is settle(): a few yields.
void run_on_one_worker(rt::task<> (*body)()) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([](rt::task<> (*b)()) -> rt::task<> {
        auto done = co_await rt::spawn(b());
        EXPECT_TRUE(done.has_value());
    }(body));
}

rt::task<> settle() {
    for (int i = 0; i < 8; ++i)
        co_await rt::yield_now();
}

template <class T>
rt::task<std::optional<T>> receive(rt::mpmc::receiver<T> rx) {
    co_return co_await rx.recv();
}

// A spawned task's parameters live as long as its frame, which rt keeps until the join handle is
// gone; the senders below are moved into locals so that a task's end drops them.

template <class T>
rt::task<bool> send_one(rt::mpmc::sender<T> param, T v) {
    auto tx = std::move(param);
    auto r = co_await tx.send(std::move(v));
    co_return r.has_value();
}

// ---- basics ----

TEST(chan_mpmc, a_bounded_channel_is_fifo_and_reports_its_state) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(3);
        EXPECT_EQ(tx.capacity(), std::optional<std::size_t>(3));
        EXPECT_EQ(rx.capacity(), std::optional<std::size_t>(3));
        EXPECT_TRUE(rx.is_empty());
        for (int i = 1; i <= 3; ++i)
            EXPECT_TRUE(co_await tx.send(i));
        EXPECT_EQ(rx.len(), 3u);
        EXPECT_TRUE(tx.is_full());
        auto full = tx.try_send(4);
        CO_ASSERT_FALSE(full.has_value());
        EXPECT_TRUE(full.error().is_full());
        EXPECT_EQ(full.error().value, 4);
        for (int i = 1; i <= 3; ++i)
            EXPECT_EQ(co_await rx.recv(), std::optional<int>(i));
        auto empty = rx.try_recv();
        CO_ASSERT_FALSE(empty.has_value());
        EXPECT_EQ(empty.error(), rt::mpmc::try_recv_error::empty);
        EXPECT_TRUE(tx.try_send(5).has_value());
        EXPECT_EQ(rx.try_recv().value(), 5);
        EXPECT_FALSE(tx.is_closed());
    }());
}

TEST(chan_mpmc, a_bounded_channel_needs_a_capacity_of_at_least_one) {
    EXPECT_THROW((void)rt::mpmc::channel<int>(0), std::invalid_argument);
}

TEST(chan_mpmc, unbounded_send_never_waits) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::unbounded_channel<int>();
        EXPECT_FALSE(tx.capacity().has_value());
        for (int i = 0; i < 10000; ++i)
            EXPECT_TRUE(tx.send(i).has_value());
        EXPECT_EQ(rx.len(), 10000u);
        for (int i = 0; i < 10000; ++i)
            EXPECT_EQ(co_await rx.recv(), std::optional<int>(i));
    }());
}

TEST(chan_mpmc, move_only_messages_travel_and_come_back_on_failure) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<std::unique_ptr<int>>(1);
        EXPECT_TRUE(co_await tx.send(std::make_unique<int>(7)));
        auto full = tx.try_send(std::make_unique<int>(8));
        CO_ASSERT_FALSE(full.has_value());
        EXPECT_EQ(*full.error().value, 8);
        auto got = co_await rx.recv();
        CO_ASSERT_TRUE(got.has_value());
        EXPECT_EQ(**got, 7);
        rx.close();
        auto closed = co_await tx.send(std::make_unique<int>(9));
        CO_ASSERT_FALSE(closed.has_value());
        EXPECT_EQ(*closed.error().value, 9);
    }());
}

// ---- handles, close and drop ----

TEST(chan_mpmc, copies_count_as_live_and_moved_from_handles_do_not) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(4);
        std::optional<rt::mpmc::sender<int>> a(tx);
        EXPECT_EQ(tx.sender_count(), 2u);
        std::optional<rt::mpmc::sender<int>> b(std::move(*a)); // a is now moved-from
        EXPECT_EQ(tx.sender_count(), 2u);
        a.reset();
        EXPECT_EQ(tx.sender_count(), 2u);
        EXPECT_FALSE(rx.is_closed());
        {
            auto dying = std::move(tx); // the original's last use
        }
        EXPECT_EQ(rx.sender_count(), 1u);
        EXPECT_FALSE(rx.is_closed());
        EXPECT_TRUE(co_await b->send(1));
        b.reset();
        EXPECT_TRUE(rx.is_closed());
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
        EXPECT_EQ(co_await rx.recv(), std::nullopt);

        // The same for receivers: assignment, moves and copies.
        auto [tx2, rx2] = rt::mpmc::unbounded_channel<int>();
        auto rx3 = rx2;
        EXPECT_EQ(tx2.receiver_count(), 2u);
        rx3 = std::move(rx2);
        EXPECT_EQ(tx2.receiver_count(), 1u);
        auto rx4 = rx3;
        rx4 = rx3;
        EXPECT_EQ(tx2.receiver_count(), 2u);
        rx3 = std::move(rx4);
        EXPECT_EQ(tx2.receiver_count(), 1u);
        EXPECT_TRUE(tx2.send(5).has_value());
        EXPECT_EQ(rx3.try_recv().value(), 5);
    }());
}

TEST(chan_mpmc, receivers_drain_what_is_queued_then_end_when_every_sender_is_gone) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(8);
        {
            auto tx2 = tx;
            auto tx3 = std::move(tx);
            EXPECT_TRUE(co_await tx2.send(1));
            EXPECT_TRUE(co_await tx3.send(2));
        }
        EXPECT_TRUE(rx.is_closed());
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
        EXPECT_EQ(rx.try_recv().value(), 2);
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
        EXPECT_EQ(rx.try_recv().error(), rt::mpmc::try_recv_error::closed);
    }());
}

TEST(chan_mpmc, a_waiting_receiver_ends_when_the_last_sender_goes) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        auto a = rt::spawn(receive(rx));
        auto b = rt::spawn(receive(rx));
        co_await settle();
        EXPECT_FALSE(a.is_finished());
        { auto last = std::move(tx); }
        EXPECT_EQ((co_await a).value(), std::nullopt);
        EXPECT_EQ((co_await b).value(), std::nullopt);
    });
}

TEST(chan_mpmc, close_on_the_receiving_side_fails_sends_but_keeps_the_queue) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(4);
        EXPECT_TRUE(co_await tx.send(1));
        EXPECT_TRUE(rx.close());
        EXPECT_FALSE(rx.close());
        EXPECT_FALSE(tx.close());
        EXPECT_TRUE(tx.is_closed());
        auto failed = co_await tx.send(2);
        CO_ASSERT_FALSE(failed.has_value());
        EXPECT_EQ(failed.error().value, 2);
        auto try_failed = tx.try_send(3);
        CO_ASSERT_FALSE(try_failed.has_value());
        EXPECT_TRUE(try_failed.error().is_closed());
        EXPECT_EQ(try_failed.error().value, 3);
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
        EXPECT_EQ(co_await rx.recv(), std::nullopt);

        auto [utx, urx] = rt::mpmc::unbounded_channel<int>();
        EXPECT_TRUE(utx.close());
        auto ufailed = utx.send(4);
        CO_ASSERT_FALSE(ufailed.has_value());
        EXPECT_EQ(ufailed.error().value, 4);
        EXPECT_EQ(co_await urx.recv(), std::nullopt);
    }());
}

TEST(chan_mpmc, close_wakes_waiting_senders_with_their_messages) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        EXPECT_TRUE(co_await tx.send(0));
        auto s = rt::spawn([](rt::mpmc::sender<int> t) -> rt::task<int> {
            auto r = co_await t.send(7);
            co_return r.has_value() ? -1 : r.error().value;
        }(tx));
        co_await settle();
        EXPECT_FALSE(s.is_finished());
        EXPECT_TRUE(tx.close());
        EXPECT_EQ((co_await s).value(), 7);
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(0));
        EXPECT_EQ(co_await rx.recv(), std::nullopt);
    });
}

TEST(chan_mpmc, dropping_every_receiver_fails_waiting_senders_and_drops_the_queue) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<std::shared_ptr<int>>(1);
        auto probe = std::make_shared<int>(1);
        EXPECT_TRUE(co_await tx.send(probe));
        EXPECT_EQ(probe.use_count(), 2);
        auto s = rt::spawn([](rt::mpmc::sender<std::shared_ptr<int>> t) -> rt::task<int> {
            auto r = co_await t.send(std::make_shared<int>(7));
            co_return r.has_value() ? -1 : *r.error().value;
        }(tx));
        co_await settle();
        EXPECT_FALSE(s.is_finished());
        {
            auto copy = rx;
            auto last = std::move(rx);
        }
        EXPECT_EQ(probe.use_count(), 1); // the queued message went with the last receiver
        EXPECT_TRUE(tx.is_closed());
        EXPECT_EQ((co_await s).value(), 7);
        auto late = co_await tx.send(std::make_shared<int>(8));
        EXPECT_FALSE(late.has_value());
    });
}

// ---- waiting, FIFO service ----

TEST(chan_mpmc, a_full_channel_makes_send_wait_until_there_is_room) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        EXPECT_TRUE(co_await tx.send(1));
        auto s = rt::spawn(send_one(tx, 2));
        co_await settle();
        EXPECT_FALSE(s.is_finished());
        EXPECT_EQ(rx.len(), 1u);
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
        EXPECT_TRUE((co_await s).value());
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(2));
    });
}

TEST(chan_mpmc, waiting_senders_are_let_in_fifo) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        EXPECT_TRUE(co_await tx.send(0));
        std::vector<rt::join_handle<bool>> senders;
        for (int i = 1; i <= 5; ++i) {
            senders.push_back(rt::spawn(send_one(tx, i)));
            co_await settle(); // it is waiting before the next one starts
        }
        for (int i = 0; i <= 5; ++i)
            EXPECT_EQ(co_await rx.recv(), std::optional<int>(i));
        for (auto& s : senders)
            EXPECT_TRUE((co_await s).value());
    });
}

TEST(chan_mpmc, a_slot_freed_for_a_waiting_sender_is_not_taken_by_try_send) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        EXPECT_TRUE(co_await tx.send(0));
        auto s = rt::spawn(send_one(tx, 1));
        co_await settle();
        EXPECT_EQ(rx.try_recv().value(), 0); // the slot is now promised to `s`
        auto barging = tx.try_send(2);
        CO_ASSERT_FALSE(barging.has_value());
        EXPECT_TRUE(barging.error().is_full());
        EXPECT_TRUE((co_await s).value());
        EXPECT_EQ(rx.try_recv().value(), 1);
    });
}

TEST(chan_mpmc, waiting_receivers_are_served_fifo) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(4);
        std::vector<rt::join_handle<std::optional<int>>> receivers;
        for (int i = 0; i < 5; ++i) {
            receivers.push_back(rt::spawn(receive(rx)));
            co_await settle(); // it is waiting before the next one starts
        }
        for (int i = 0; i < 5; ++i) {
            EXPECT_TRUE(co_await tx.send(i));
            co_await settle();
            for (int j = 0; j < 5; ++j)
                EXPECT_EQ(receivers[j].is_finished(), j <= i) << "after message " << i;
        }
        for (int i = 0; i < 5; ++i)
            EXPECT_EQ((co_await receivers[i]).value(), std::optional<int>(i));
    });
}

TEST(chan_mpmc, a_message_promised_to_a_waiting_receiver_is_not_taken_by_try_recv) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::unbounded_channel<int>();
        auto a = rt::spawn(receive(rx));
        co_await settle();
        EXPECT_TRUE(tx.send(5).has_value());
        EXPECT_EQ(rx.len(), 1u);
        EXPECT_EQ(rx.try_recv().error(), rt::mpmc::try_recv_error::empty);
        EXPECT_EQ((co_await a).value(), std::optional<int>(5));
    });
}

// ---- cancellation ----

TEST(chan_mpmc, a_woken_receiver_that_is_aborted_passes_the_message_on) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(2);
        auto first = rt::spawn(receive(rx));
        co_await settle();
        auto second = rt::spawn(receive(rx));
        co_await settle();
        EXPECT_TRUE(co_await tx.send(42)); // promised to `first` (FIFO)...
        first.abort();                     // ...which is cancelled before the only worker runs it
        EXPECT_FALSE((co_await first).has_value());
        EXPECT_EQ((co_await second).value(), std::optional<int>(42));
        EXPECT_TRUE(rx.is_empty());
    });
}

TEST(chan_mpmc, a_woken_receiver_that_loses_a_select_passes_the_message_on) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(2);
        auto n = std::make_shared<rt::notify>();
        auto first = rt::spawn([](rt::mpmc::receiver<int> r,
                                  std::shared_ptr<rt::notify> wake) -> rt::task<std::size_t> {
            auto res = co_await rt::select(wake->notified(), r.recv());
            co_return res.index();
        }(rx, n));
        co_await settle();
        auto second = rt::spawn(receive(rx));
        co_await settle();
        EXPECT_TRUE(co_await tx.send(42)); // wakes first's recv branch...
        n->notify_one();                   // ...and its earlier branch, which wins
        EXPECT_EQ((co_await first).value(), 0u);
        EXPECT_EQ((co_await second).value(), std::optional<int>(42));
    });
}

TEST(chan_mpmc, a_cancelled_promise_with_nobody_waiting_leaves_the_message_queued) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::unbounded_channel<int>();
        auto first = rt::spawn(receive(rx));
        co_await settle();
        EXPECT_TRUE(tx.send(1).has_value());
        first.abort();
        (void)co_await first;
        EXPECT_EQ(rx.try_recv().value(), 1);
    });
}

TEST(chan_mpmc, a_receive_that_times_out_leaves_nothing_behind) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        for (int i = 0; i < 20; ++i) {
            auto res = co_await rt::timeout(1ms, rx.recv());
            EXPECT_FALSE(res.has_value());
        }
        // Had a timed-out receive stayed queued, this message would be promised to it.
        EXPECT_TRUE(co_await tx.send(3));
        EXPECT_EQ(rx.try_recv().value(), 3);
    }());
}

TEST(chan_mpmc, receives_racing_other_branches_lose_no_message) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(4);
        constexpr int n = 2000;
        auto producer = rt::spawn([](rt::mpmc::sender<int> param) -> rt::task<> {
            auto t = std::move(param);
            std::minstd_rand rng(1);
            for (int i = 0; i < n; ++i) {
                EXPECT_TRUE(co_await t.send(i));
                if (rng() % 2)
                    co_await rt::yield_now();
            }
        }(tx));
        { auto drop = std::move(tx); }
        std::vector<int> got;
        int lost_races = 0;
        std::minstd_rand rng(2);
        for (;;) {
            // Receive first or second: second, a receive woken at the same time as the yield
            // loses to it after being promised the message.
            std::optional<int> v;
            if (rng() % 2) {
                auto res = co_await rt::select(rx.recv(), rt::yield_now());
                if (res.index() == 1) {
                    ++lost_races;
                    continue;
                }
                v = std::get<0>(res);
            } else {
                auto res = co_await rt::select(rt::yield_now(), rx.recv());
                if (res.index() == 0) {
                    ++lost_races;
                    continue;
                }
                v = std::get<1>(res);
            }
            if (!v)
                break;
            got.push_back(*v);
        }
        co_await producer;
        CO_ASSERT_TRUE(got.size() == std::size_t{n});
        for (int i = 0; i < n; ++i)
            EXPECT_EQ(got[i], i);
        EXPECT_GT(lost_races, 0);
    }());
}

TEST(chan_mpmc, a_send_that_times_out_has_sent_nothing) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        EXPECT_TRUE(co_await tx.send(1));
        auto res = co_await rt::timeout(5ms, tx.send(2));
        EXPECT_FALSE(res.has_value());
        EXPECT_EQ(co_await rx.recv(), std::optional<int>(1));
        EXPECT_EQ(rx.try_recv().error(), rt::mpmc::try_recv_error::empty);
        // Had the timed-out send stayed queued, this slot would be promised to it.
        EXPECT_TRUE(tx.try_send(3).has_value());
    }());
}

TEST(chan_mpmc, a_woken_sender_that_is_aborted_has_sent_nothing_and_passes_the_slot_on) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        EXPECT_TRUE(co_await tx.send(1));
        auto first = rt::spawn(send_one(tx, 2));
        co_await settle();
        auto second = rt::spawn(send_one(tx, 3));
        co_await settle();
        EXPECT_EQ(rx.try_recv().value(), 1); // the slot is promised to `first`...
        first.abort();                       // ...which is cancelled before it runs
        EXPECT_FALSE((co_await first).has_value());
        EXPECT_TRUE((co_await second).value());
        EXPECT_EQ(rx.try_recv().value(), 3);
        EXPECT_EQ(rx.try_recv().error(), rt::mpmc::try_recv_error::empty);
    });
}

TEST(chan_mpmc, close_with_promised_messages_ends_the_other_receivers_only_once_drained) {
    run_on_one_worker([]() -> rt::task<> {
        auto [tx, rx] = rt::mpmc::unbounded_channel<int>();
        auto first = rt::spawn(receive(rx));
        co_await settle();
        auto second = rt::spawn(receive(rx));
        co_await settle();
        EXPECT_TRUE(tx.send(9).has_value()); // promised to `first`
        tx.close();
        co_await settle();
        // `first` took it; only then does `second` learn that nothing more will come.
        EXPECT_EQ((co_await first).value(), std::optional<int>(9));
        EXPECT_EQ((co_await second).value(), std::nullopt);

        auto [tx2, rx2] = rt::mpmc::unbounded_channel<int>();
        auto third = rt::spawn(receive(rx2));
        co_await settle();
        auto fourth = rt::spawn(receive(rx2));
        co_await settle();
        EXPECT_TRUE(tx2.send(10).has_value()); // promised to `third`
        { auto last = std::move(tx2); }        // closes, but the message is still queued
        third.abort();                         // so `fourth` must still be waiting for it
        (void)co_await third;
        EXPECT_EQ((co_await fourth).value(), std::optional<int>(10));
        EXPECT_EQ(co_await rx2.recv(), std::nullopt);
    });
}

// ---- fairness to other tasks ----

TEST(chan_mpmc, a_loop_of_ready_operations_lets_other_tasks_run) {
    run_on_one_worker([]() -> rt::task<> {
        constexpr int n = 20000;
        auto [tx, rx] = rt::mpmc::channel<int>(n);
        auto ran = std::make_shared<std::atomic<bool>>(false);
        auto other = rt::spawn([](std::shared_ptr<std::atomic<bool>> f) -> rt::task<> {
            f->store(true);
            co_return;
        }(ran));
        int sent_before_other_ran = -1;
        for (int i = 0; i < n; ++i) {
            EXPECT_TRUE(co_await tx.send(i));
            if (sent_before_other_ran < 0 && ran->load())
                sent_before_other_ran = i;
        }
        EXPECT_GE(sent_before_other_ran, 0);
        EXPECT_LT(sent_before_other_ran, n / 2);
        co_await other;

        ran->store(false);
        auto other2 = rt::spawn([](std::shared_ptr<std::atomic<bool>> f) -> rt::task<> {
            f->store(true);
            co_return;
        }(ran));
        int received_before_other_ran = -1;
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(co_await rx.recv(), std::optional<int>(i));
            if (received_before_other_ran < 0 && ran->load())
                received_before_other_ran = i;
        }
        EXPECT_GE(received_before_other_ran, 0);
        EXPECT_LT(received_before_other_ran, n / 2);
        co_await other2;
    });
}

// ---- many producers and consumers ----

rt::task<> produce(rt::mpmc::sender<int> param, int id, int count) {
    auto tx = std::move(param);
    std::minstd_rand rng(static_cast<unsigned>(id) + 1);
    for (int i = 0; i < count; ++i) {
        EXPECT_TRUE(co_await tx.send(id * 1000000 + i));
        if (rng() % 4 == 0)
            co_await rt::yield_now();
    }
}

rt::task<std::vector<int>> consume(rt::mpmc::receiver<int> rx, int id) {
    std::minstd_rand rng(static_cast<unsigned>(id) + 100);
    std::vector<int> got;
    while (auto v = co_await rx.recv()) {
        got.push_back(*v);
        if (rng() % 4 == 0)
            co_await rt::yield_now();
    }
    co_return got;
}

TEST(chan_mpmc, many_producers_and_consumers_deliver_each_message_exactly_once) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        constexpr int producers = 8, consumers = 4, per_producer = 3000;
        auto [tx, rx] = rt::mpmc::channel<int>(16);
        std::vector<rt::join_handle<void>> ps;
        for (int p = 0; p < producers; ++p)
            ps.push_back(rt::spawn(produce(tx, p, per_producer)));
        std::vector<rt::join_handle<std::vector<int>>> cs;
        for (int c = 0; c < consumers; ++c)
            cs.push_back(rt::spawn(consume(rx, c)));
        { auto drop = std::move(tx); }
        { auto drop = std::move(rx); }
        for (auto& p : ps)
            co_await p;
        std::vector<int> seen(producers * per_producer, 0);
        for (auto& c : cs) {
            auto got = (co_await c).value();
            std::vector<int> last(producers, -1);
            for (int v : got) {
                int p = v / 1000000, i = v % 1000000;
                CO_ASSERT_TRUE(p >= 0 && p < producers && i < per_producer);
                EXPECT_GT(i, last[p]) << "one sender's messages arrived out of order";
                last[p] = i;
                ++seen[p * per_producer + i];
            }
        }
        for (std::size_t k = 0; k < seen.size(); ++k)
            EXPECT_EQ(seen[k], 1) << "message " << k;
    }());
}

// ---- the chapter's worker pool ----

// What the workers printed, checked after they finish.
struct pool_log {
    std::mutex mu;
    std::vector<std::string> lines;
    std::vector<int> values;

    void received(int worker, int value) {
        std::string line =
            "worker-" + std::to_string(worker) + " > received: " + std::to_string(value);
        std::printf("%s\n", line.c_str());
        std::lock_guard lock(mu);
        lines.push_back(line);
        values.push_back(value);
    }
};

rt::task<> pool_producer(rt::mpmc::unbounded_sender<int> param, int value) {
    auto tx = std::move(param);
    EXPECT_TRUE(tx.send(value).has_value());
    co_return;
}

// Returns true when it stopped because a second passed with nothing to do.
rt::task<bool> pool_worker(int id, rt::mpmc::receiver<int> rx, std::shared_ptr<pool_log> log) {
    for (;;) {
        auto r = co_await rt::select(rx.recv(), rt::sleep(1s));
        if (r.index() != 0)
            co_return true;
        auto msg = std::get<0>(r);
        if (!msg)
            co_return false; // closed and drained (the program keeps a sender, so not expected)
        log->received(id, *msg);
        co_await rt::sleep(100ms);
    }
}

TEST(chan_mpmc, the_chapters_worker_pool_program) {
    auto r = make_runtime();
    auto log = std::make_shared<pool_log>();
    r.block_on([](std::shared_ptr<pool_log> shared_log) -> rt::task<> {
        auto [tx, rx] = rt::mpmc::unbounded_channel<int>();
        std::vector<rt::join_handle<void>> producers;
        for (int v = 1; v <= 4; ++v)
            producers.push_back(rt::spawn(pool_producer(tx, v)));
        std::vector<rt::join_handle<bool>> workers;
        for (int id = 1; id <= 2; ++id)
            workers.push_back(rt::spawn(pool_worker(id, rx, shared_log)));
        for (auto& p : producers)
            EXPECT_TRUE((co_await p).has_value());
        for (auto& w : workers) {
            auto timed_out = co_await w;
            CO_ASSERT_TRUE(timed_out.has_value());
            EXPECT_TRUE(*timed_out);
        }
    }(log));
    std::sort(log->values.begin(), log->values.end());
    EXPECT_EQ(log->values, (std::vector<int>{1, 2, 3, 4}));
    for (const auto& line : log->lines) {
        bool ok = line.rfind("worker-1 > received: ", 0) == 0 ||
                  line.rfind("worker-2 > received: ", 0) == 0;
        EXPECT_TRUE(ok) << line;
    }
}

} // namespace
