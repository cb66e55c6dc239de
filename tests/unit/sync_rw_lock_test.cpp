// rt::rw_lock: shared readers, exclusive writers, FIFO fairness (a waiting writer blocks later
// readers), batches of readers admitted together, downgrade, and what cancelling a waiting or
// granted read()/write() gives back.
#include <rt/rt.hpp>
#include <rt/sync/notify.hpp>
#include <rt/sync/rw_lock.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <string>
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

// What the tasks of a test did, in order; only touched on the one worker.
struct journal {
    rt::rw_lock<int> lock{0};
    std::vector<std::string> events;
    std::atomic<int> arrived{0};
    rt::notify release; // holders wait on it before letting go
    int held = 0;       // guards alive right now
};

// Takes the lock (reader or writer), logs "+name", holds it until `release` is notified if
// `hold`, then logs "-name".
rt::task<> take(journal* j, std::string name, bool exclusive, bool hold) {
    j->arrived.fetch_add(1);
    if (exclusive) {
        auto g = co_await j->lock.write();
        j->events.push_back("+" + name);
        ++j->held;
        if (hold)
            co_await j->release.notified();
        --j->held;
        j->events.push_back("-" + name);
    } else {
        auto g = co_await j->lock.read();
        j->events.push_back("+" + name);
        ++j->held;
        if (hold)
            co_await j->release.notified();
        --j->held;
        j->events.push_back("-" + name);
    }
}

// Spawns `take` and returns once it has run up to its first suspension.
rt::task<rt::join_handle<void>> start(journal* j, std::string name, bool exclusive, bool hold) {
    int before = j->arrived.load();
    auto h = rt::spawn(take(j, std::move(name), exclusive, hold));
    while (j->arrived.load() == before)
        co_await rt::yield_now();
    co_await settle();
    co_return h;
}

using events = std::vector<std::string>;

// True when `got` is the groups of `want` one after another, each group in any order (tasks woken
// together may run in any order).
bool steps(const events& got, std::vector<std::vector<std::string>> want) {
    std::size_t at = 0;
    for (auto& group : want) {
        if (at + group.size() > got.size())
            return false;
        events part(got.begin() + static_cast<std::ptrdiff_t>(at),
                    got.begin() + static_cast<std::ptrdiff_t>(at + group.size()));
        std::sort(part.begin(), part.end());
        std::sort(group.begin(), group.end());
        if (part != group)
            return false;
        at += group.size();
    }
    return at == got.size();
}

TEST(sync_rw_lock, try_read_and_try_write) {
    rt::rw_lock<int> l(1);
    {
        auto r1 = l.try_read();
        auto r2 = l.try_read();
        ASSERT_TRUE(r1 && r2);
        EXPECT_EQ(**r1 + **r2, 2);
        EXPECT_FALSE(l.try_write().has_value());
    }
    {
        auto w = l.try_write();
        ASSERT_TRUE(w.has_value());
        **w = 5;
        EXPECT_FALSE(l.try_read().has_value());
        EXPECT_FALSE(l.try_write().has_value());
        auto r = w->downgrade(); // a writer becomes a reader
        EXPECT_FALSE(static_cast<bool>(*w));
        EXPECT_EQ(*r, 5);
        EXPECT_TRUE(l.try_read().has_value());
        EXPECT_FALSE(l.try_write().has_value());
    }
    EXPECT_TRUE(l.try_write().has_value());
}

TEST(sync_rw_lock, readers_share_and_a_waiting_writer_blocks_later_readers) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto r1 = co_await start(&j, "r1", false, true);
        auto r2 = co_await start(&j, "r2", false, true); // readers share
        EXPECT_EQ(j.held, 2);
        auto w = co_await start(&j, "w", true, true);    // waits for both readers
        auto r3 = co_await start(&j, "r3", false, true); // queued behind the writer
        EXPECT_EQ(events({"+r1", "+r2"}), j.events);
        EXPECT_FALSE(j.lock.try_read().has_value()); // no barging past the writer either
        j.release.notify_waiters(); // r1 and r2 leave; the writer gets in, r3 still waits
        co_await settle();
        EXPECT_TRUE(steps(j.events, {{"+r1"}, {"+r2"}, {"-r1", "-r2"}, {"+w"}}));
        j.release.notify_waiters();
        co_await settle();
        EXPECT_TRUE(steps(j.events, {{"+r1"}, {"+r2"}, {"-r1", "-r2"}, {"+w"}, {"-w"}, {"+r3"}}));
        j.release.notify_waiters();
        for (auto* h : {&r1, &r2, &w, &r3})
            co_await *h;
        EXPECT_TRUE(j.lock.try_write().has_value());
    }());
}

TEST(sync_rw_lock, a_leaving_writer_admits_the_run_of_readers_at_the_head_together) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto w1 = co_await start(&j, "w1", true, true);
        auto r1 = co_await start(&j, "r1", false, true);
        auto r2 = co_await start(&j, "r2", false, true);
        auto w2 = co_await start(&j, "w2", true, true);
        auto r3 = co_await start(&j, "r3", false, true);
        j.release.notify_waiters();
        co_await settle();
        // r1 and r2 hold the lock together; w2 waits for them, r3 waits for w2.
        EXPECT_TRUE(steps(j.events, {{"+w1"}, {"-w1"}, {"+r1", "+r2"}}));
        EXPECT_EQ(j.held, 2);
        j.release.notify_waiters();
        co_await settle();
        EXPECT_TRUE(steps(j.events, {{"+w1"}, {"-w1"}, {"+r1", "+r2"}, {"-r1", "-r2"}, {"+w2"}}));
        j.release.notify_waiters();
        co_await settle();
        EXPECT_EQ(j.events.back(), "+r3");
        j.release.notify_waiters();
        for (auto* h : {&w1, &r1, &r2, &w2, &r3})
            co_await *h;
    }());
}

TEST(sync_rw_lock, downgrade_admits_waiting_readers_but_not_writers) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto w = j.lock.try_write();
        CO_ASSERT(w.has_value());
        auto r1 = co_await start(&j, "r1", false, false);
        auto w2 = co_await start(&j, "w2", true, false);
        EXPECT_TRUE(j.events.empty());
        auto r = w->downgrade(); // r1 may read now; w2 still waits for us
        co_await r1;
        EXPECT_EQ(events({"+r1", "-r1"}), j.events);
        co_await settle();
        EXPECT_EQ(events({"+r1", "-r1"}), j.events);
        r.unlock();
        co_await w2;
        EXPECT_EQ(events({"+r1", "-r1", "+w2", "-w2"}), j.events);
    }());
}

TEST(sync_rw_lock, cancelling_a_waiting_writer_admits_the_readers_behind_it) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto r1 = co_await start(&j, "r1", false, true);
        auto w = co_await start(&j, "w", true, true);
        auto r2 = co_await start(&j, "r2", false, true);
        EXPECT_EQ(events({"+r1"}), j.events);
        w.abort(); // the writer leaves the queue; nothing blocks r2 any more
        co_await w;
        co_await settle();
        EXPECT_EQ(events({"+r1", "+r2"}), j.events);
        j.release.notify_waiters();
        co_await r1;
        co_await r2;
        EXPECT_TRUE(j.lock.try_write().has_value());
    }());
}

TEST(sync_rw_lock, a_write_that_times_out_leaves_the_queue) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto r1 = co_await start(&j, "r1", false, true);
        auto timed = co_await rt::timeout(5ms, j.lock.write());
        EXPECT_FALSE(timed.has_value());
        EXPECT_TRUE(j.lock.try_read().has_value()); // no writer waits any more
        j.release.notify_waiters();
        co_await r1;
    }());
}

TEST(sync_rw_lock, a_granted_write_aborted_before_it_runs_passes_the_lock_on) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto r1 = j.lock.try_read();
        auto w = co_await start(&j, "w", true, false);
        auto r2 = co_await start(&j, "r2", false, false);
        r1.reset(); // the writer is granted...
        w.abort();  // ...and cancelled before it runs
        co_await w;
        co_await r2; // completes only if the writer gave the lock back
        EXPECT_EQ(events({"+r2", "-r2"}), j.events);
        EXPECT_TRUE(j.lock.try_write().has_value());
    }());
}

TEST(sync_rw_lock, a_granted_read_aborted_before_it_runs_gives_its_share_back) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        auto w1 = j.lock.try_write();
        auto r1 = co_await start(&j, "r1", false, false);
        auto r2 = co_await start(&j, "r2", false, false);
        auto w2 = co_await start(&j, "w2", true, false);
        w1.reset(); // r1 and r2 are granted together...
        r1.abort(); // ...and r1 is cancelled before it runs
        co_await r1;
        co_await r2;
        co_await w2; // completes only if r1's share was given back
        EXPECT_EQ(events({"+r2", "-r2", "+w2", "-w2"}), j.events);
        EXPECT_TRUE(j.lock.try_write().has_value());
    }());
}

rt::task<> write_or_notified(journal* j, std::size_t* winner) {
    j->arrived.fetch_add(1);
    auto r = co_await rt::select(j->release.notified(), j->lock.write());
    *winner = r.index();
}

TEST(sync_rw_lock, a_select_that_loses_a_granted_write_passes_it_on) {
    run_on_one_worker([]() -> rt::task<> {
        journal j;
        std::size_t winner = 99;
        auto r1 = j.lock.try_read();
        auto racer = rt::spawn(write_or_notified(&j, &winner));
        while (j.arrived.load() == 0)
            co_await rt::yield_now();
        auto behind = co_await start(&j, "w2", true, false);
        j.release.notify_one();
        r1.reset(); // both branches of the racer are ready before it runs
        co_await racer;
        EXPECT_EQ(winner, 0u);
        co_await behind;
        EXPECT_EQ(events({"+w2", "-w2"}), j.events);
        EXPECT_TRUE(j.lock.try_write().has_value());
    }());
}

struct pair_state {
    rt::rw_lock<std::pair<long, long>> lock;
    std::atomic<int> readers{0};
    std::atomic<int> writers{0};
    std::atomic<int> violations{0};
    std::atomic<long> reads{0};
};

rt::task<> mixed_user(pair_state* s, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        if (rng() % 4 == 0) {
            auto g = co_await s->lock.write();
            if (s->writers.fetch_add(1) != 0 || s->readers.load() != 0)
                s->violations.fetch_add(1);
            ++g->first;
            if (rng() % 2 == 0)
                co_await rt::yield_now();
            ++g->second;
            s->writers.fetch_sub(1);
        } else {
            auto g = co_await s->lock.read();
            s->readers.fetch_add(1);
            if (s->writers.load() != 0)
                s->violations.fetch_add(1);
            if (rng() % 2 == 0)
                co_await rt::yield_now();
            if (g->first != g->second)
                s->violations.fetch_add(1);
            s->readers.fetch_sub(1);
            s->reads.fetch_add(1);
        }
        if (rng() % 3 == 0)
            co_await rt::yield_now();
    }
}

TEST(sync_rw_lock, readers_never_see_a_half_done_write) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        pair_state s;
        constexpr int tasks = 48;
        constexpr int iters = 400;
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < tasks; ++i)
            hs.push_back(rt::spawn(mixed_user(&s, 101 + static_cast<unsigned>(i), iters)));
        for (auto& h : hs)
            EXPECT_TRUE((co_await h).has_value());
        auto g = co_await s.lock.read();
        EXPECT_EQ(g->first, g->second);
        EXPECT_EQ(g->first + s.reads.load(), long{tasks} * iters);
        EXPECT_EQ(s.violations.load(), 0);
    }());
}

} // namespace
