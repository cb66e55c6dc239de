// rt::watch: the chapter's program, versions and "seen" marks, sending with and without
// receivers, close, read guards holding sends back, monotonic values under many threads, and
// cancellation that leaves the change for the next wait.
#include <rt/chan/watch.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

TEST(chan_watch, the_chapters_program_prints_what_the_chapter_says) {
    std::ostringstream out;
    out << std::boolalpha;
    auto [tx, rx] = rt::watch::channel(0);
    out << "Has new messages: " << rx.has_changed() << '\n';
    EXPECT_TRUE(tx.send(1).has_value());
    EXPECT_TRUE(tx.send(2).has_value());
    EXPECT_TRUE(tx.send(3).has_value());
    auto rx1 = rx;
    out << "Receiver 1 changed: " << rx1.has_changed() << '\n';
    out << "Receiver 1 value: " << *rx1.borrow_and_update() << '\n';
    out << "Receiver 1 changed: " << rx1.has_changed() << '\n';
    auto rx2 = rx;
    out << "Receiver 2 changed: " << rx2.has_changed() << '\n';
    out << "Receiver 2 value: " << *rx2.borrow_and_update() << '\n';
    out << "Receiver 2 changed: " << rx2.has_changed() << '\n';
    EXPECT_EQ(out.str(), "Has new messages: false\n"
                         "Receiver 1 changed: true\n"
                         "Receiver 1 value: 3\n"
                         "Receiver 1 changed: false\n"
                         "Receiver 2 changed: true\n"
                         "Receiver 2 value: 3\n"
                         "Receiver 2 changed: false\n");
}

TEST(chan_watch, borrow_reads_without_marking_and_borrow_and_update_marks) {
    auto [tx, rx] = rt::watch::channel<std::string>("a");
    EXPECT_EQ(*rx.borrow(), "a");
    EXPECT_FALSE(rx.borrow().has_changed());
    tx.send("bb");
    {
        auto g = rx.borrow();
        EXPECT_EQ(g->size(), 2u);
        EXPECT_TRUE(g.has_changed());
    }
    EXPECT_TRUE(rx.has_changed());
    EXPECT_TRUE(rx.borrow_and_update().has_changed());
    EXPECT_FALSE(rx.has_changed());
    EXPECT_FALSE(rx.borrow_and_update().has_changed());
    EXPECT_EQ(*tx.borrow(), "bb");

    rx.mark_changed();
    EXPECT_TRUE(rx.has_changed());
    rx.mark_unchanged();
    EXPECT_FALSE(rx.has_changed());
}

TEST(chan_watch, a_copy_has_seen_what_the_original_had) {
    auto [tx, rx] = rt::watch::channel(1);
    tx.send(2);
    auto unseen = rx;
    (void)rx.borrow_and_update();
    auto seen = rx;
    EXPECT_TRUE(unseen.has_changed());
    EXPECT_FALSE(seen.has_changed());
    unseen = seen; // copy assignment takes the seen version too
    EXPECT_FALSE(unseen.has_changed());
    auto sub = tx.subscribe(); // a new subscriber has seen the current value
    EXPECT_FALSE(sub.has_changed());
    EXPECT_EQ(tx.receiver_count(), 4u);
    EXPECT_TRUE(sub.same_channel(rx));
}

TEST(chan_watch, send_without_receivers_fails_and_stores_nothing) {
    auto [tx, rx] = rt::watch::channel(10);
    { auto gone = std::move(rx); }
    EXPECT_TRUE(tx.is_closed());
    auto r = tx.send(11);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().value, 11);
    EXPECT_EQ(*tx.borrow(), 10);
    // The other ways of sending store the value even then.
    EXPECT_EQ(tx.send_replace(12), 10);
    tx.send_modify([](int& v) { v += 1; });
    EXPECT_EQ(*tx.borrow(), 13);
    EXPECT_FALSE(tx.send_if_modified([](int&) { return false; }));
    EXPECT_TRUE(tx.send_if_modified([](int& v) {
        v = 14;
        return true;
    }));
    auto again = tx.subscribe(); // reopens the channel
    EXPECT_FALSE(tx.is_closed());
    EXPECT_EQ(*again.borrow(), 14);
    EXPECT_FALSE(again.has_changed());
    EXPECT_TRUE(tx.send(15).has_value());
    EXPECT_TRUE(again.has_changed());
}

TEST(chan_watch, send_if_modified_notifies_only_when_modified) {
    auto [tx, rx] = rt::watch::channel(0);
    tx.send_if_modified([](int&) { return false; });
    EXPECT_FALSE(rx.has_changed());
    tx.send_if_modified([](int& v) { return ++v > 0; });
    EXPECT_TRUE(rx.has_changed());
    EXPECT_EQ(*rx.borrow_and_update(), 1);
}

TEST(chan_watch, values_need_not_be_copyable) {
    auto [tx, rx] = rt::watch::channel(std::make_unique<int>(1));
    tx.send(std::make_unique<int>(2));
    EXPECT_EQ(**rx.borrow_and_update(), 2);
    auto old = tx.send_replace(std::make_unique<int>(3));
    EXPECT_EQ(*old, 2);
    tx.send_modify([](std::unique_ptr<int>& p) { *p = 4; });
    EXPECT_EQ(**rx.borrow(), 4);
}

TEST(chan_watch, changed_waits_for_a_send_and_marks_it_seen) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::watch::channel(0);
        auto h = rt::spawn([](rt::watch::receiver<int> in) -> rt::task<int> {
            auto c = co_await in.changed();
            EXPECT_TRUE(c.has_value());
            EXPECT_FALSE(in.has_changed()); // changed() marked it seen
            co_return *in.borrow();
        }(rx));
        co_await rt::sleep(5ms);
        tx.send(5);
        EXPECT_EQ(*(co_await h), 5);

        // Nothing new: changed() waits.
        (void)rx.borrow_and_update();
        auto t = co_await rt::timeout(5ms, rx.changed());
        EXPECT_FALSE(t.has_value());
        // An unseen version completes it at once; several sends count as one change.
        tx.send(6);
        tx.send(7);
        EXPECT_TRUE((co_await rx.changed()).has_value());
        EXPECT_EQ(*rx.borrow(), 7);
        auto t2 = co_await rt::timeout(5ms, rx.changed());
        EXPECT_FALSE(t2.has_value());
    }());
}

TEST(chan_watch, the_close_comes_after_the_last_unseen_version) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::watch::channel(0);
        auto tx2 = tx;
        EXPECT_EQ(tx.sender_count(), 2u);
        tx2.send(1);
        { auto gone = std::move(tx2); }
        EXPECT_FALSE(rx.is_closed());
        { auto gone = std::move(tx); }
        EXPECT_TRUE(rx.is_closed());
        EXPECT_TRUE(rx.has_changed()); // has_changed compares versions only
        EXPECT_TRUE((co_await rx.changed()).has_value());
        EXPECT_EQ(*rx.borrow(), 1);
        auto end = co_await rx.changed();
        EXPECT_TRUE(!end.has_value() && end.error() == rt::watch::recv_error{});
        EXPECT_FALSE((co_await rx.changed()).has_value());
    }());
}

TEST(chan_watch, the_last_sender_leaving_wakes_every_waiting_receiver) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::watch::channel(0);
        std::vector<rt::join_handle<bool>> hs;
        for (int i = 0; i < 8; ++i) {
            hs.push_back(rt::spawn([](rt::watch::receiver<int> in) -> rt::task<bool> {
                auto c = co_await in.changed();
                co_return !c.has_value();
            }(rx)));
        }
        co_await rt::sleep(10ms); // let them wait (correctness does not depend on it)
        { auto gone = std::move(tx); }
        for (auto& h : hs)
            EXPECT_TRUE(*(co_await h));
    }());
}

TEST(chan_watch, a_read_guard_holds_sends_back_until_it_is_gone) {
    auto [tx, rx] = rt::watch::channel(1);
    std::atomic<bool> sent{false};
    std::thread t;
    {
        auto g = rx.borrow();
        t = std::thread([&tx = tx, &sent] {
            tx.send(2);
            sent.store(true);
        });
        // A negative check: give the send a chance to (wrongly) get through.
        std::this_thread::sleep_for(20ms);
        EXPECT_FALSE(sent.load());
        EXPECT_EQ(*g, 1);
    }
    t.join();
    EXPECT_TRUE(sent.load());
    EXPECT_EQ(*rx.borrow(), 2);
}

TEST(chan_watch, a_send_in_progress_holds_borrows_back) {
    auto [tx, rx] = rt::watch::channel(1);
    std::atomic<bool> entered{false}, release{false}, borrowed{false};
    std::thread writer([&tx = tx, &entered, &release] {
        tx.send_modify([&](int& v) {
            entered.store(true);
            while (!release.load())
                std::this_thread::yield();
            v = 2;
        });
    });
    while (!entered.load())
        std::this_thread::yield();
    int seen = 0;
    std::thread reader([&rx = rx, &borrowed, &seen] {
        seen = *rx.borrow();
        borrowed.store(true);
    });
    // A negative check: give the borrow a chance to (wrongly) get through mid-send.
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(borrowed.load());
    release.store(true);
    writer.join();
    reader.join();
    EXPECT_EQ(seen, 2);
}

TEST(chan_watch, a_timed_out_or_aborted_wait_leaves_the_change) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            auto [tx, rx] = rt::watch::channel(0);
            auto t = co_await rt::timeout(2ms, rx.changed());
            EXPECT_FALSE(t.has_value());

            // Woken, then aborted before it runs (one worker, and this task runs on it).
            auto h = rt::spawn([](rt::watch::receiver<int>* in) -> rt::task<> {
                (void)co_await in->changed();
            }(&rx));
            co_await rt::sleep(5ms);
            tx.send(1);
            h.abort();
            EXPECT_FALSE((co_await h).has_value());
            EXPECT_TRUE(rx.has_changed());

            // Woken inside a select that another branch wins.
            rt::notify n;
            (void)rx.borrow_and_update();
            auto h2 = rt::spawn([](rt::notify* np, rt::watch::receiver<int>* in) -> rt::task<int> {
                auto res = co_await rt::select(np->notified(), in->changed());
                co_return static_cast<int>(res.index());
            }(&n, &rx));
            co_await rt::sleep(5ms);
            n.notify_one();
            tx.send(2);
            EXPECT_EQ(*(co_await h2), 0);
            EXPECT_TRUE(rx.has_changed());
            EXPECT_TRUE((co_await rx.changed()).has_value());
            EXPECT_EQ(*rx.borrow(), 2);
        }());
    }());
}

TEST(chan_watch, a_loop_of_ready_waits_lets_other_tasks_run) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            auto [tx, rx] = rt::watch::channel(0);
            std::atomic<bool> other_ran{false};
            auto other = rt::spawn([](std::atomic<bool>* f) -> rt::task<> {
                f->store(true);
                co_return;
            }(&other_ran));
            bool ran_before_the_end = false;
            for (int i = 1; i <= 2000; ++i) {
                tx.send(i);
                EXPECT_TRUE((co_await rx.changed()).has_value());
                ran_before_the_end = ran_before_the_end || other_ran.load();
            }
            EXPECT_TRUE(ran_before_the_end);
            co_await other;
        }());
    }());
}

TEST(chan_watch, a_wait_out_of_budget_yields_without_marking_the_change) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [tx, rx] = rt::watch::channel(0);
        int yields_won = 0;
        for (int i = 1; i <= 1000; ++i) {
            tx.send(i);
            // A ready changed() completes at once until the poll's budget runs out; then it
            // yields, and yield_now (first) wins. The change must still be unseen then.
            auto res = co_await rt::select(rt::yield_now(), rx.changed());
            if (res.index() == 0) {
                ++yields_won;
                EXPECT_TRUE(rx.has_changed());
                rx.mark_unchanged();
            }
            EXPECT_FALSE(rx.has_changed());
        }
        EXPECT_GT(yields_won, 0);
    }());
}

// Receivers must never see an older value after a newer one, must end on the last value, and
// lose nothing when their waits are cancelled by select or timeout.
TEST(chan_watch, receivers_see_values_only_move_forward) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        constexpr int last = 5000;
        constexpr int receivers = 6;
        auto [tx, rx] = rt::watch::channel(0);
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < receivers; ++i) {
            hs.push_back(rt::spawn([](rt::watch::receiver<int> in, unsigned seed) -> rt::task<int> {
                std::minstd_rand rng(seed);
                int prev = 0;
                int changes = 0;
                for (;;) {
                    rt::expected<void, rt::watch::recv_error> c;
                    switch (rng() % 4) {
                    case 0: {
                        auto res = co_await rt::select(rt::yield_now(), in.changed());
                        if (res.index() == 0)
                            continue;
                        c = std::get<1>(res);
                        break;
                    }
                    case 1: {
                        auto res = co_await rt::timeout(std::chrono::microseconds(rng() % 200),
                                                        in.changed());
                        if (!res)
                            continue;
                        c = *res;
                        break;
                    }
                    default:
                        c = co_await in.changed();
                    }
                    if (!c)
                        break;
                    ++changes;
                    int v = *in.borrow_and_update();
                    EXPECT_GT(v, prev);
                    prev = v;
                }
                EXPECT_GT(changes, 0);
                co_return prev;
            }(rx, static_cast<unsigned>(i))));
        }
        { auto own = std::move(rx); }
        auto producer = rt::spawn([](rt::watch::sender<int> param) -> rt::task<> {
            // A by-value parameter lives until the join handle is dropped; a local goes at the
            // end of the body, and with it the last sender.
            auto out = std::move(param);
            std::minstd_rand rng(99);
            for (int i = 1; i <= last; ++i) {
                if (i % 3 == 0)
                    out.send_modify([i](int& v) { v = i; });
                else
                    out.send(i);
                if (rng() % 2)
                    co_await rt::yield_now();
            }
        }(std::move(tx)));
        for (auto& h : hs)
            EXPECT_EQ(*(co_await h), last);
        co_await producer;
    }());
}

// A wait completes only for a version the receiver has not seen: a sender on a blocking-pool
// thread sends as fast as it can while receivers wait, read and wait again.
constexpr int sends_from_a_thread = 100000;

TEST(chan_watch, a_completed_wait_always_brings_a_newer_value) {
    auto r = make_runtime();
    for (int round = 0; round < 5; ++round) {
        r.block_on([]() -> rt::task<> {
            constexpr int last = sends_from_a_thread;
            auto [tx, rx] = rt::watch::channel(0);
            std::vector<rt::join_handle<int>> hs;
            for (int i = 0; i < 4; ++i) {
                hs.push_back(rt::spawn([](rt::watch::receiver<int> param) -> rt::task<int> {
                    auto in = std::move(param);
                    int prev = 0;
                    int stale = 0;
                    while ((co_await in.changed()).has_value()) {
                        int v = *in.borrow_and_update();
                        stale += v <= prev ? 1 : 0;
                        prev = v;
                    }
                    EXPECT_EQ(prev, sends_from_a_thread);
                    co_return stale;
                }(rx)));
            }
            { auto own = std::move(rx); }
            // Named, not a temporary inside the co_await: g++ 12 destroys a lambda with an
            // init-capture created inside a co_await expression twice.
            auto producer = rt::spawn_blocking([out = std::move(tx)]() mutable {
                for (int i = 1; i <= last; ++i)
                    (void)out.send(i);
                auto gone = std::move(out); // the close, now rather than when the handle goes
            });
            co_await producer;
            for (auto& h : hs)
                EXPECT_EQ(*(co_await h), 0);
        }());
    }
}

} // namespace
