// rt::mutex: mutual exclusion, FIFO hand-off without barging, try_lock, guards, the cooperative
// budget, and hand-off when a waiting or granted lock() is cancelled (abort, timeout, select).
#include <rt/rt.hpp>
#include <rt/sync/mutex.hpp>
#include <rt/sync/notify.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Runs `body` as a spawned task on a one-worker runtime: nothing else is polled while the body
// runs, so "woken but not yet run" states can be set up deterministically.
void run_on_one_worker(rt::task<> body) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([](rt::task<> b) -> rt::task<> {
        auto res = co_await rt::spawn(std::move(b));
        EXPECT_TRUE(res.has_value());
    }(std::move(body)));
}

using log_mutex = rt::mutex<std::vector<int>>;

// Counts its arrival, then queues on the lock in the same poll (no suspension in between).
rt::task<> lock_and_log(log_mutex* m, int id, std::atomic<int>* arrived) {
    arrived->fetch_add(1);
    auto g = co_await m->lock();
    g->push_back(id);
}

// Spawns lock_and_log and returns once it is queued on the lock (one worker).
rt::task<rt::join_handle<void>> spawn_queued(log_mutex* m, int id, std::atomic<int>* arrived) {
    int before = arrived->load();
    auto h = rt::spawn(lock_and_log(m, id, arrived));
    while (arrived->load() == before)
        co_await rt::yield_now();
    co_return h;
}

rt::task<> set_to_two(std::shared_ptr<rt::mutex<int>> m) {
    auto g = co_await m->lock();
    *g = 2;
}

TEST(sync_mutex, the_chapters_program_prints_two) {
    testing::internal::CaptureStdout();
    rt::run([]() -> rt::task<> {
        auto m = std::make_shared<rt::mutex<int>>(1);
        auto h = rt::spawn(set_to_two(m));
        co_await h;
        std::cout << *co_await m->lock() << "\n";
    }());
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "2\n");
}

TEST(sync_mutex, try_lock_guards_and_early_unlock) {
    rt::mutex<int> m(5);
    {
        auto g = m.try_lock();
        ASSERT_TRUE(g.has_value());
        EXPECT_EQ(**g, 5);
        **g = 6;
        EXPECT_TRUE(m.is_locked());
        EXPECT_FALSE(m.try_lock().has_value());
        auto moved = std::move(*g); // ownership moves with the guard
        EXPECT_FALSE(static_cast<bool>(*g));
        EXPECT_TRUE(m.is_locked());
        moved.unlock();
        EXPECT_FALSE(static_cast<bool>(moved));
        EXPECT_FALSE(m.is_locked());
    }
    auto g = m.try_lock();
    ASSERT_TRUE(g.has_value());
    EXPECT_EQ(**g, 6);
    auto other = m.try_lock();
    EXPECT_FALSE(other.has_value());
    g.reset();
    EXPECT_FALSE(m.is_locked());

    rt::mutex<std::vector<int>> in_place(std::in_place, 3, 7);
    EXPECT_EQ(in_place.try_lock().value()->size(), 3u);
}

struct counter_state {
    rt::mutex<long> m{0};
    long plain = 0; // only touched under the lock; TSan checks the lock orders it
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
};

rt::task<> hammer(counter_state* s, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        auto g = co_await s->m.lock();
        if (s->inside.fetch_add(1) != 0)
            s->overlaps.fetch_add(1);
        long v = *g;
        if (rng() % 4 == 0)
            co_await rt::yield_now(); // hold the lock across a suspension
        *g = v + 1;
        ++s->plain;
        s->inside.fetch_sub(1);
        g.unlock();
        if (rng() % 3 == 0)
            co_await rt::yield_now();
    }
}

TEST(sync_mutex, many_tasks_increment_a_plain_counter_exactly) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        counter_state s;
        constexpr int tasks = 64;
        constexpr int iters = 300;
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < tasks; ++i)
            hs.push_back(rt::spawn(hammer(&s, 11 + static_cast<unsigned>(i), iters)));
        for (auto& h : hs)
            EXPECT_TRUE((co_await h).has_value());
        auto g = co_await s.m.lock();
        EXPECT_EQ(*g, long{tasks} * iters);
        EXPECT_EQ(s.plain, long{tasks} * iters);
        EXPECT_EQ(s.overlaps.load(), 0);
    }());
}

TEST(sync_mutex, waiters_are_granted_in_arrival_order_and_nobody_barges) {
    run_on_one_worker([]() -> rt::task<> {
        log_mutex m;
        std::atomic<int> arrived{0};
        auto g = co_await m.lock();
        constexpr int n = 20;
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < n; ++i)
            hs.push_back(co_await spawn_queued(&m, i, &arrived));
        EXPECT_FALSE(m.try_lock().has_value());
        g.unlock();                             // hands the mutex to waiter 0...
        EXPECT_TRUE(m.is_locked());             // ...directly: it never becomes free...
        EXPECT_FALSE(m.try_lock().has_value()); // ...so nobody can barge in
        int late_arrived = 0;
        auto late = rt::spawn([](log_mutex* pm, int* flag) -> rt::task<> {
            auto lg = co_await pm->lock(); // arrives after all 20: must be served last
            lg->push_back(100);
            *flag = 1;
        }(&m, &late_arrived));
        for (auto& h : hs)
            co_await h;
        co_await late;
        auto all = co_await m.lock();
        std::vector<int> want(n);
        std::iota(want.begin(), want.end(), 0);
        want.push_back(100);
        EXPECT_EQ(*all, want);
    }());
}

TEST(sync_mutex, a_granted_lock_aborted_before_it_runs_passes_the_mutex_on) {
    run_on_one_worker([]() -> rt::task<> {
        log_mutex m;
        std::atomic<int> arrived{0};
        auto g = co_await m.lock();
        auto first = co_await spawn_queued(&m, 1, &arrived);
        auto second = co_await spawn_queued(&m, 2, &arrived);
        g.unlock();    // hands the mutex to `first`...
        first.abort(); // ...which is cancelled before the only worker polls it
        auto r1 = co_await first;
        EXPECT_FALSE(r1.has_value());
        co_await second; // completes only if `first` passed the mutex on
        auto all = co_await m.lock();
        EXPECT_EQ(*all, std::vector<int>{2});
    }());
}

TEST(sync_mutex, a_granted_lock_aborted_with_nobody_behind_it_unlocks) {
    run_on_one_worker([]() -> rt::task<> {
        log_mutex m;
        std::atomic<int> arrived{0};
        auto g = co_await m.lock();
        auto only = co_await spawn_queued(&m, 1, &arrived);
        g.unlock();
        only.abort();
        co_await only;
        EXPECT_FALSE(m.is_locked());
        EXPECT_TRUE(m.try_lock().has_value());
    }());
}

TEST(sync_mutex, a_waiting_lock_that_times_out_leaves_the_queue) {
    run_on_one_worker([]() -> rt::task<> {
        log_mutex m;
        std::atomic<int> arrived{0};
        auto g = co_await m.lock();
        auto timed = co_await rt::timeout(5ms, m.lock());
        EXPECT_FALSE(timed.has_value());
        auto after = co_await spawn_queued(&m, 7, &arrived);
        g.unlock(); // must go to `after`, not to the timed-out wait
        co_await after;
        auto all = co_await m.lock();
        EXPECT_EQ(*all, std::vector<int>{7});
    }());
}

rt::task<> notified_or_lock(log_mutex* m, rt::notify* n, std::atomic<int>* arrived,
                            std::size_t* winner) {
    arrived->fetch_add(1);
    auto r = co_await rt::select(n->notified(), m->lock());
    *winner = r.index();
}

TEST(sync_mutex, a_select_that_loses_a_granted_lock_passes_it_on) {
    run_on_one_worker([]() -> rt::task<> {
        log_mutex m;
        rt::notify n;
        std::atomic<int> arrived{0};
        std::size_t winner = 99;
        auto g = co_await m.lock();
        auto racer = rt::spawn(notified_or_lock(&m, &n, &arrived, &winner));
        while (arrived.load() == 0)
            co_await rt::yield_now();
        auto behind = co_await spawn_queued(&m, 3, &arrived);
        // Both branches of the racer become ready before it runs; the first branch wins and the
        // lock branch, already handed the mutex, is destroyed.
        n.notify_one();
        g.unlock();
        co_await racer;
        EXPECT_EQ(winner, 0u);
        co_await behind; // completes only if the losing branch passed the mutex on
        auto all = co_await m.lock();
        EXPECT_EQ(*all, std::vector<int>{3});
    }());
}

rt::task<> hold_forever(rt::mutex<int>* m, rt::notify* never, std::atomic<int>* holding) {
    auto g = co_await m->lock();
    holding->fetch_add(1);
    co_await never->notified();
}

TEST(sync_mutex, aborting_the_holder_unlocks_through_its_guard) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        rt::mutex<int> m(0);
        rt::notify never;
        std::atomic<int> holding{0};
        auto h = rt::spawn(hold_forever(&m, &never, &holding));
        while (holding.load() == 0)
            co_await rt::yield_now();
        auto waiting = co_await rt::timeout(5ms, m.lock());
        EXPECT_FALSE(waiting.has_value());
        h.abort();
        co_await h;
        auto g = co_await m.lock();
        EXPECT_EQ(*g, 0);
    }());
}

rt::task<> lock_in_a_loop(rt::mutex<int>* m, int n, std::atomic<int>* done) {
    for (int i = 0; i < n; ++i) {
        auto g = co_await m->lock();
        ++*g;
    }
    done->fetch_add(1);
}

TEST(sync_mutex, uncontended_locks_spend_the_budget_and_yield) {
    run_on_one_worker([]() -> rt::task<> {
        rt::mutex<int> m(0);
        std::atomic<int> done{0};
        auto h = rt::spawn(lock_in_a_loop(&m, 100000, &done));
        co_await rt::yield_now(); // the loop runs until its budget is spent, then yields to us
        EXPECT_EQ(done.load(), 0);
        co_await h;
        EXPECT_EQ(*m.try_lock().value(), 100000);
    }());
}

TEST(sync_mutex, a_lock_cancelled_while_it_yields_for_budget_unlocks) {
    run_on_one_worker([]() -> rt::task<> {
        rt::mutex<int> m(0);
        std::atomic<int> done{0};
        auto h = rt::spawn(lock_in_a_loop(&m, 1000000, &done));
        co_await rt::yield_now(); // the loop spends its budget and yields holding the lock
        EXPECT_TRUE(m.is_locked());
        h.abort();
        co_await h;
        EXPECT_EQ(done.load(), 0);
        EXPECT_FALSE(m.is_locked());
        EXPECT_TRUE(m.try_lock().has_value());
    }());
}

} // namespace
