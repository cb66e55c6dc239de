// rt::semaphore: permit accounting, permit objects (release, forget, merge), FIFO without
// overtaking, close(), and permits given back when a waiting or granted acquire is cancelled.
#include <rt/rt.hpp>
#include <rt/sync/notify.hpp>
#include <rt/sync/semaphore.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <vector>

using namespace std::chrono_literals;

// ASSERT_* cannot return from a coroutine; this ends the test body with co_return instead.
#define CO_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ADD_FAILURE() << "assertion failed: " #cond;                                           \
            co_return;                                                                             \
        }                                                                                          \
    } while (0)

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

// On one worker: lets every task that is runnable now run before we continue.
rt::task<> settle() {
    for (int i = 0; i < 8; ++i)
        co_await rt::yield_now();
}

struct journal {
    explicit journal(std::size_t permits) : sem(permits) {}
    rt::semaphore sem;
    std::vector<int> granted; // ids, in the order their acquires completed
    int failed = 0;           // acquires that saw the semaphore closed
    std::atomic<int> arrived{0};
};

// Acquires `n` permits and logs `id`; then returns the permits, or forgets them if `keep` (so
// that the next grant happens only when the test adds permits, and the log shows grant order).
rt::task<> acquire_and_log(journal* j, int id, std::size_t n, bool keep) {
    j->arrived.fetch_add(1);
    auto p = co_await j->sem.acquire(n);
    if (!p) {
        ++j->failed;
        co_return;
    }
    EXPECT_EQ(p->num_permits(), n);
    j->granted.push_back(id);
    if (keep)
        p->forget();
}

// Spawns acquire_and_log and returns once it has run up to its first suspension.
rt::task<rt::join_handle<void>> start(journal* j, int id, std::size_t n, bool keep = false) {
    int before = j->arrived.load();
    auto h = rt::spawn(acquire_and_log(j, id, n, keep));
    while (j->arrived.load() == before)
        co_await rt::yield_now();
    co_return h;
}

TEST(sync_semaphore, permits_come_back_when_the_permit_dies) {
    rt::semaphore s(5);
    {
        auto a = s.try_acquire(2);
        ASSERT_TRUE(a.has_value());
        EXPECT_EQ(a->num_permits(), 2u);
        EXPECT_EQ(s.available_permits(), 3u);
        auto b = s.try_acquire(4);
        ASSERT_FALSE(b.has_value());
        EXPECT_EQ(b.error(), rt::try_acquire_error::no_permits);
        auto c = s.try_acquire(3);
        ASSERT_TRUE(c.has_value());
        EXPECT_EQ(s.available_permits(), 0u);
        a->merge(std::move(*c));
        EXPECT_EQ(a->num_permits(), 5u);
        EXPECT_EQ(c->num_permits(), 0u);
        auto moved = std::move(*a);
        EXPECT_EQ(a->num_permits(), 0u);
        moved.release();
        EXPECT_EQ(s.available_permits(), 5u);
        EXPECT_EQ(moved.num_permits(), 0u);
    }
    EXPECT_EQ(s.available_permits(), 5u);
    {
        auto zero = s.try_acquire(0);
        ASSERT_TRUE(zero.has_value());
        auto f = s.try_acquire(2);
        f->forget(); // the semaphore shrinks for good
    }
    EXPECT_EQ(s.available_permits(), 3u);
    s.add_permits(4);
    s.release(1);
    EXPECT_EQ(s.available_permits(), 8u);
}

TEST(sync_semaphore, acquire_waits_for_permits_and_completes_at_once_when_there_are_some) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(1);
        auto p = co_await j.sem.acquire();
        CO_ASSERT(p.has_value());
        auto zero = co_await j.sem.acquire(0);
        EXPECT_TRUE(zero.has_value());
        auto h = co_await start(&j, 1, 1);
        co_await settle();
        EXPECT_TRUE(j.granted.empty());
        *p = {}; // release by assignment
        co_await h;
        EXPECT_EQ(j.granted, std::vector<int>{1});
        EXPECT_EQ(j.sem.available_permits(), 1u);
    }());
}

TEST(sync_semaphore, a_large_request_at_the_head_is_not_overtaken_by_small_ones) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(0);
        auto big = co_await start(&j, 1, 3, true);
        auto small = co_await start(&j, 2, 1, true);
        auto small2 = co_await start(&j, 3, 1, true);
        j.sem.add_permits(2); // enough for both small ones, not for the head
        co_await settle();
        EXPECT_TRUE(j.granted.empty());
        EXPECT_EQ(j.sem.available_permits(), 2u);
        EXPECT_EQ(j.sem.try_acquire(1).error(), rt::try_acquire_error::no_permits);
        j.sem.add_permits(1); // the head's 3 fit now
        co_await big;
        EXPECT_EQ(j.granted, std::vector<int>{1});
        j.sem.add_permits(1);
        co_await small;
        j.sem.add_permits(1);
        co_await small2;
        EXPECT_EQ(j.granted, (std::vector<int>{1, 2, 3}));
        EXPECT_EQ(j.sem.available_permits(), 0u);
    }());
}

TEST(sync_semaphore, waiters_are_served_in_arrival_order) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(0);
        std::vector<rt::join_handle<void>> hs;
        std::size_t total = 0;
        for (int i = 0; i < 20; ++i) {
            std::size_t n = 1 + static_cast<std::size_t>(i % 3);
            total += n;
            hs.push_back(co_await start(&j, i, n, true));
        }
        for (std::size_t i = 0; i < total; ++i) {
            j.sem.add_permits(1); // one at a time: each grant shows up before the next
            co_await settle();
        }
        for (auto& h : hs)
            co_await h;
        std::vector<int> want;
        for (int i = 0; i < 20; ++i)
            want.push_back(i);
        EXPECT_EQ(j.granted, want);
        EXPECT_EQ(j.sem.available_permits(), 0u);
    }());
}

TEST(sync_semaphore, close_fails_pending_and_future_acquires_but_keeps_held_permits_valid) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(2);
        auto held = j.sem.try_acquire(2);
        auto a = co_await start(&j, 1, 1);
        auto b = co_await start(&j, 2, 5);
        j.sem.close();
        EXPECT_TRUE(j.sem.is_closed());
        co_await a;
        co_await b;
        EXPECT_EQ(j.failed, 2);
        auto later = co_await j.sem.acquire();
        CO_ASSERT(!later.has_value());
        EXPECT_EQ(later.error(), rt::acquire_error{});
        EXPECT_EQ(j.sem.try_acquire(0).error(), rt::try_acquire_error::closed);
        held->release(); // still returns its permits
        EXPECT_EQ(j.sem.available_permits(), 2u);
        j.sem.close(); // idempotent
    }());
}

TEST(sync_semaphore, a_granted_acquire_aborted_before_it_runs_gives_its_permits_back) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(0);
        auto first = co_await start(&j, 1, 2);
        auto second = co_await start(&j, 2, 3);
        j.sem.add_permits(2); // granted to `first`...
        first.abort();        // ...which is cancelled before it runs: its 2 go back
        co_await first;
        co_await settle();
        EXPECT_TRUE(j.granted.empty());
        EXPECT_EQ(j.sem.available_permits(), 2u);
        j.sem.add_permits(1);
        co_await second;
        EXPECT_EQ(j.granted, std::vector<int>{2});
        EXPECT_EQ(j.sem.available_permits(), 3u);
    }());
}

TEST(sync_semaphore, cancelling_a_waiting_head_lets_the_requests_behind_it_through) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(1);
        auto big = co_await start(&j, 1, 5);
        auto small = co_await start(&j, 2, 1);
        co_await settle();
        EXPECT_TRUE(j.granted.empty()); // 1 permit is free, but the head wants 5
        big.abort();
        co_await big;
        co_await small;
        EXPECT_EQ(j.granted, std::vector<int>{2});
        EXPECT_EQ(j.sem.available_permits(), 1u);
    }());
}

TEST(sync_semaphore, an_acquire_that_times_out_leaves_the_queue) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(0);
        auto timed = co_await rt::timeout(5ms, j.sem.acquire(4));
        EXPECT_FALSE(timed.has_value());
        auto after = co_await start(&j, 1, 1);
        j.sem.add_permits(1);
        co_await after;
        EXPECT_EQ(j.granted, std::vector<int>{1});
        EXPECT_EQ(j.sem.available_permits(), 1u);
    }());
}

rt::task<> notified_or_acquire(journal* j, rt::notify* n, std::size_t* winner) {
    j->arrived.fetch_add(1);
    auto r = co_await rt::select(n->notified(), j->sem.acquire(2));
    *winner = r.index();
}

TEST(sync_semaphore, a_select_that_loses_a_granted_acquire_gives_the_permits_back) {
    run_on_one_worker([]() -> rt::task<> {
        journal j(0);
        rt::notify n;
        std::size_t winner = 99;
        auto racer = rt::spawn(notified_or_acquire(&j, &n, &winner));
        while (j.arrived.load() == 0)
            co_await rt::yield_now();
        auto behind = co_await start(&j, 2, 2);
        n.notify_one();
        j.sem.add_permits(2); // granted to the racer's acquire branch, which then loses
        co_await racer;
        EXPECT_EQ(winner, 0u);
        co_await behind;
        EXPECT_EQ(j.granted, std::vector<int>{2});
        EXPECT_EQ(j.sem.available_permits(), 2u);
    }());
}

rt::task<> acquire_in_a_loop(rt::semaphore* s, int n, std::atomic<int>* done) {
    for (int i = 0; i < n; ++i) {
        auto p = co_await s->acquire();
        EXPECT_TRUE(p.has_value());
    }
    done->fetch_add(1);
}

TEST(sync_semaphore, an_acquire_cancelled_while_it_yields_for_budget_gives_its_permit_back) {
    run_on_one_worker([]() -> rt::task<> {
        rt::semaphore s(1);
        std::atomic<int> done{0};
        auto h = rt::spawn(acquire_in_a_loop(&s, 1000000, &done));
        co_await rt::yield_now(); // the loop spends its budget and yields holding a permit
        EXPECT_EQ(s.available_permits(), 0u);
        h.abort();
        co_await h;
        EXPECT_EQ(done.load(), 0);
        EXPECT_EQ(s.available_permits(), 1u);
    }());
}

struct accounting {
    explicit accounting(std::size_t n) : sem(n), capacity(n) {}
    rt::semaphore sem;
    std::size_t capacity;
    std::atomic<long> in_use{0};
    std::atomic<int> over{0};
};

rt::task<> use_permits(accounting* a, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        std::size_t n = 1 + rng() % 3;
        auto p = co_await a->sem.acquire(n);
        EXPECT_TRUE(p.has_value());
        long now = a->in_use.fetch_add(static_cast<long>(n)) + static_cast<long>(n);
        if (now > static_cast<long>(a->capacity))
            a->over.fetch_add(1);
        if (rng() % 2 == 0)
            co_await rt::yield_now();
        a->in_use.fetch_sub(static_cast<long>(n));
    }
}

TEST(sync_semaphore, permits_in_use_never_exceed_the_capacity) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        accounting a(5);
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < 40; ++i)
            hs.push_back(rt::spawn(use_permits(&a, 3 + static_cast<unsigned>(i), 300)));
        for (auto& h : hs)
            EXPECT_TRUE((co_await h).has_value());
        EXPECT_EQ(a.over.load(), 0);
        EXPECT_EQ(a.sem.available_permits(), 5u);
    }());
}

} // namespace
