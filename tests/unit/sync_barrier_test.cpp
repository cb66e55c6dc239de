// rt::barrier: one leader per generation over many generations, nobody passes before all have
// arrived, reuse, and what a cancelled wait does to its generation.
#include <rt/rt.hpp>
#include <rt/sync/barrier.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
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

// On one worker: lets every task that is runnable now run before we continue.
rt::task<> settle() {
    for (int i = 0; i < 8; ++i)
        co_await rt::yield_now();
}

struct rounds {
    rounds(std::size_t n, int generations)
        : b(n), n(static_cast<int>(n)), arrivals(static_cast<std::size_t>(generations)),
          leaders(static_cast<std::size_t>(generations)) {}
    rt::barrier b;
    int n;
    std::vector<std::atomic<int>> arrivals;
    std::vector<std::atomic<int>> leaders;
    std::atomic<int> early{0}; // a wait that returned before its whole generation arrived
};

rt::task<> run_rounds(rounds* s, unsigned seed, int generations) {
    std::minstd_rand rng(seed);
    for (int g = 0; g < generations; ++g) {
        auto gi = static_cast<std::size_t>(g);
        if (rng() % 2 == 0)
            co_await rt::yield_now();
        s->arrivals[gi].fetch_add(1);
        auto r = co_await s->b.wait();
        if (s->arrivals[gi].load() != s->n)
            s->early.fetch_add(1);
        if (r.is_leader())
            s->leaders[gi].fetch_add(1);
    }
}

TEST(sync_barrier, exactly_one_leader_per_generation_over_many_generations) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        constexpr std::size_t n = 8;
        constexpr int generations = 1000;
        rounds s(n, generations);
        std::vector<rt::join_handle<void>> hs;
        for (std::size_t i = 0; i < n; ++i)
            hs.push_back(rt::spawn(run_rounds(&s, 5 + static_cast<unsigned>(i), generations)));
        for (auto& h : hs)
            EXPECT_TRUE((co_await h).has_value());
        EXPECT_EQ(s.early.load(), 0);
        int bad = 0;
        for (int g = 0; g < generations; ++g)
            bad += s.leaders[static_cast<std::size_t>(g)].load() != 1;
        EXPECT_EQ(bad, 0);
        EXPECT_EQ(s.b.generation(), static_cast<std::uint64_t>(generations));
    }());
}

TEST(sync_barrier, a_barrier_of_one_never_waits) {
    run_on_one_worker([]() -> rt::task<> {
        rt::barrier one(1);
        rt::barrier zero(0); // treated as 1
        EXPECT_EQ(zero.size(), 1u);
        for (int i = 0; i < 300; ++i) { // past the budget: the yield path is taken too
            EXPECT_TRUE((co_await one.wait()).is_leader());
            EXPECT_TRUE((co_await zero.wait()).is_leader());
        }
        EXPECT_EQ(one.generation(), 300u);
    }());
}

rt::task<> wait_and_record(rt::barrier* b, std::atomic<int>* arrived, int* leader) {
    arrived->fetch_add(1);
    auto r = co_await b->wait();
    *leader = r.is_leader() ? 1 : 0;
}

// Spawns wait_and_record and returns once it is waiting (one worker).
rt::task<rt::join_handle<void>> start(rt::barrier* b, std::atomic<int>* arrived, int* leader) {
    int before = arrived->load();
    auto h = rt::spawn(wait_and_record(b, arrived, leader));
    while (arrived->load() == before)
        co_await rt::yield_now();
    co_return h;
}

TEST(sync_barrier, a_wait_that_times_out_withdraws_its_arrival) {
    run_on_one_worker([]() -> rt::task<> {
        rt::barrier b(2);
        std::atomic<int> arrived{0};
        auto timed = co_await rt::timeout(5ms, b.wait());
        EXPECT_FALSE(timed.has_value());
        int leader = -1;
        auto other = co_await start(&b, &arrived, &leader);
        co_await settle();
        EXPECT_EQ(leader, -1); // had the timed-out arrival counted, `other` would be done
        EXPECT_FALSE(other.is_finished());
        auto mine = co_await b.wait(); // the second arrival completes the generation
        EXPECT_TRUE(mine.is_leader());
        co_await other;
        EXPECT_EQ(leader, 0);
        EXPECT_EQ(b.generation(), 1u);
    }());
}

TEST(sync_barrier, an_aborted_waiter_leaves_its_generation) {
    run_on_one_worker([]() -> rt::task<> {
        rt::barrier b(3);
        std::atomic<int> arrived{0};
        int l1 = -1;
        int l2 = -1;
        int l3 = -1;
        auto a = co_await start(&b, &arrived, &l1);
        auto c = co_await start(&b, &arrived, &l2);
        a.abort();
        co_await a;
        auto d = co_await start(&b, &arrived, &l3);
        co_await settle();
        EXPECT_EQ(b.generation(), 0u); // only two live arrivals so far
        auto mine = co_await b.wait();
        EXPECT_TRUE(mine.is_leader());
        co_await c;
        co_await d;
        EXPECT_EQ(l1, -1);
        EXPECT_EQ(l2 + l3, 0);
        EXPECT_EQ(b.generation(), 1u);
    }());
}

TEST(sync_barrier, a_released_waiter_aborted_before_it_runs_does_not_disturb_the_next_generation) {
    run_on_one_worker([]() -> rt::task<> {
        rt::barrier b(2);
        std::atomic<int> arrived{0};
        int l1 = -1;
        int l2 = -1;
        auto a = co_await start(&b, &arrived, &l1);
        auto mine = co_await b.wait(); // releases `a`...
        EXPECT_TRUE(mine.is_leader());
        a.abort(); // ...which is cancelled before it runs: its generation is already over
        co_await a;
        auto c = co_await start(&b, &arrived, &l2);
        co_await settle();
        EXPECT_EQ(l2, -1); // the new generation has one arrival, not two
        auto again = co_await b.wait();
        EXPECT_TRUE(again.is_leader());
        co_await c;
        EXPECT_EQ(l2, 0);
        EXPECT_EQ(b.generation(), 2u);
    }());
}

} // namespace
