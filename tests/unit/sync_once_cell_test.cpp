// rt::once_cell: get/set, get_or_init runs one factory under contention, and what happens when
// the initializer throws or is cancelled, or a waiter chosen to take over is cancelled in turn.
#include <rt/rt.hpp>
#include <rt/sync/notify.hpp>
#include <rt/sync/once_cell.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
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

TEST(sync_once_cell, get_and_set) {
    rt::once_cell<std::string> cell;
    EXPECT_EQ(cell.get(), nullptr);
    EXPECT_FALSE(cell.initialized());
    EXPECT_TRUE(cell.set("first").has_value());
    ASSERT_NE(cell.get(), nullptr);
    EXPECT_EQ(*cell.get(), "first");
    auto again = cell.set("second");
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error(), rt::set_error::already_initialized);
    EXPECT_EQ(*cell.get(), "first");
    *cell.get_mut() += "!";
    EXPECT_EQ(*cell.get(), "first!");

    rt::once_cell<int> preset(7);
    ASSERT_NE(preset.get(), nullptr);
    EXPECT_EQ(*preset.get(), 7);
}

struct contention {
    rt::once_cell<std::vector<int>> cell;
    std::atomic<int> factory_calls{0};
    std::atomic<int> wrong{0};
};

rt::task<std::vector<int>> slow_vector(std::atomic<int>* calls) {
    calls->fetch_add(1);
    for (int i = 0; i < 5; ++i)
        co_await rt::yield_now();
    co_await rt::sleep(1ms);
    co_return std::vector<int>{1, 2, 3};
}

rt::task<> get_it(contention* c, unsigned seed) {
    if (seed % 3 == 0)
        co_await rt::yield_now();
    const std::vector<int>& v =
        co_await c->cell.get_or_init([c] { return slow_vector(&c->factory_calls); });
    if (v != std::vector<int>{1, 2, 3} || &v != c->cell.get())
        c->wrong.fetch_add(1);
}

TEST(sync_once_cell, get_or_init_runs_one_factory_under_contention) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    for (int round = 0; round < 20; ++round) {
        r.block_on([]() -> rt::task<> {
            contention c;
            std::vector<rt::join_handle<void>> hs;
            for (unsigned i = 0; i < 100; ++i)
                hs.push_back(rt::spawn(get_it(&c, i)));
            for (auto& h : hs)
                EXPECT_TRUE((co_await h).has_value());
            EXPECT_EQ(c.factory_calls.load(), 1);
            EXPECT_EQ(c.wrong.load(), 0);
        }());
    }
}

TEST(sync_once_cell, an_initialized_cell_never_calls_the_factory) {
    run_on_one_worker([]() -> rt::task<> {
        rt::once_cell<int> cell;
        EXPECT_TRUE(cell.set(3).has_value());
        int calls = 0;
        for (int i = 0; i < 300; ++i) { // past the budget: the yield path is taken too
            int v = co_await cell.get_or_init([&calls]() -> rt::task<int> {
                ++calls;
                co_return 4;
            });
            EXPECT_EQ(v, 3);
        }
        EXPECT_EQ(calls, 0);
    }());
}

TEST(sync_once_cell, a_capturing_lambda_coroutine_is_a_fine_factory) {
    run_on_one_worker([]() -> rt::task<> {
        rt::once_cell<std::string> cell;
        std::string prefix = "hello";
        // Named first: GCC 12 bitwise-copies a closure temporary written inside a co_await
        // expression, which breaks captures such as std::string (a compiler bug, not rt's).
        auto factory = [p = prefix + ", "]() -> rt::task<std::string> {
            co_await rt::yield_now(); // the captures must outlive this suspension
            co_return p + "world";
        };
        const std::string& v = co_await cell.get_or_init(std::move(factory));
        EXPECT_EQ(v, "hello, world");
    }());
}

// A test's initializers: each waits for `go` (if asked), then fails or produces its id.
struct race {
    rt::once_cell<int> cell;
    rt::notify go;
    std::vector<int> factories_run;
    std::atomic<int> arrived{0};
};

rt::task<int> initializer(race* r, int id, bool wait, bool fail) {
    r->factories_run.push_back(id);
    if (wait)
        co_await r->go.notified();
    if (fail)
        throw std::runtime_error("init failed");
    co_return id;
}

// Calls get_or_init with initializer(id); stores what it saw (the value, or -1 on an exception).
rt::task<> init_or_wait(race* r, int id, bool wait, bool fail, int* seen) {
    r->arrived.fetch_add(1);
    try {
        *seen = co_await r->cell.get_or_init([=] { return initializer(r, id, wait, fail); });
    } catch (const std::runtime_error&) {
        *seen = -1;
    }
}

// Spawns init_or_wait and returns once it has run up to its first suspension (one worker).
rt::task<rt::join_handle<void>> start(race* r, int id, bool wait, bool fail, int* seen) {
    int before = r->arrived.load();
    auto h = rt::spawn(init_or_wait(r, id, wait, fail, seen));
    while (r->arrived.load() == before)
        co_await rt::yield_now();
    co_await settle();
    co_return h;
}

TEST(sync_once_cell, when_the_initializer_throws_the_next_waiter_initializes) {
    run_on_one_worker([]() -> rt::task<> {
        race r;
        int s1 = 0;
        int s2 = 0;
        int s3 = 0;
        auto a = co_await start(&r, 1, true, true, &s1); // will throw
        auto b = co_await start(&r, 2, false, false, &s2);
        auto c = co_await start(&r, 3, false, false, &s3);
        EXPECT_EQ(r.factories_run, std::vector<int>{1});
        r.go.notify_one();
        co_await a;
        co_await b;
        co_await c;
        EXPECT_EQ(s1, -1); // the exception reached the initializer's caller
        EXPECT_EQ(s2, 2);  // the longest waiter ran its factory
        EXPECT_EQ(s3, 2);  // and the rest shared its value
        EXPECT_EQ(r.factories_run, (std::vector<int>{1, 2}));
        CO_ASSERT(r.cell.get() != nullptr);
        EXPECT_EQ(*r.cell.get(), 2);
    }());
}

TEST(sync_once_cell, a_factory_that_throws_before_returning_a_task_leaves_the_cell_empty) {
    run_on_one_worker([]() -> rt::task<> {
        rt::once_cell<int> cell;
        bool threw = false;
        try {
            co_await cell.get_or_init([]() -> rt::task<int> { throw std::runtime_error("no"); });
        } catch (const std::runtime_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        EXPECT_EQ(cell.get(), nullptr);
        int v = co_await cell.get_or_init([]() -> rt::task<int> { co_return 9; });
        EXPECT_EQ(v, 9);
    }());
}

TEST(sync_once_cell, when_the_initializer_is_aborted_the_next_waiter_initializes) {
    run_on_one_worker([]() -> rt::task<> {
        race r;
        int s1 = 0;
        int s2 = 0;
        auto a = co_await start(&r, 1, true, false, &s1); // waits for `go` forever
        auto b = co_await start(&r, 2, false, false, &s2);
        a.abort();
        co_await a;
        co_await b;
        EXPECT_EQ(s1, 0);
        EXPECT_EQ(s2, 2);
        EXPECT_EQ(r.factories_run, (std::vector<int>{1, 2}));
    }());
}

TEST(sync_once_cell, a_waiter_chosen_to_take_over_and_aborted_before_it_runs_passes_it_on) {
    run_on_one_worker([]() -> rt::task<> {
        race r;
        int s1 = 0;
        int s2 = 0;
        int s3 = 0;
        auto a = co_await start(&r, 1, true, false, &s1);
        auto b = co_await start(&r, 2, false, false, &s2);
        auto c = co_await start(&r, 3, false, false, &s3);
        a.abort();
        co_await a; // `b` is chosen to initialize next...
        b.abort();  // ...and cancelled before it runs
        co_await b;
        co_await c;
        EXPECT_EQ(s3, 3);
        EXPECT_EQ(r.factories_run, (std::vector<int>{1, 3}));
    }());
}

TEST(sync_once_cell, a_waiter_cancelled_while_waiting_just_leaves) {
    run_on_one_worker([]() -> rt::task<> {
        race r;
        int s1 = 0;
        int s2 = 0;
        int s3 = 0;
        auto a = co_await start(&r, 1, true, false, &s1);
        auto b = co_await start(&r, 2, false, false, &s2);
        auto c = co_await start(&r, 3, false, false, &s3);
        b.abort(); // leaves the queue; nothing else changes
        co_await b;
        r.go.notify_one();
        co_await a;
        co_await c;
        EXPECT_EQ(s1, 1);
        EXPECT_EQ(s2, 0);
        EXPECT_EQ(s3, 1);
        EXPECT_EQ(r.factories_run, std::vector<int>{1});
    }());
}

TEST(sync_once_cell, set_fails_while_a_factory_runs) {
    run_on_one_worker([]() -> rt::task<> {
        race r;
        int s1 = 0;
        auto a = co_await start(&r, 1, true, false, &s1);
        auto during = r.cell.set(5);
        EXPECT_FALSE(during.has_value());
        EXPECT_EQ(during.error(), rt::set_error::initializing);
        EXPECT_EQ(r.cell.get(), nullptr);
        r.go.notify_one();
        co_await a;
        EXPECT_EQ(s1, 1);
        EXPECT_EQ(r.cell.set(5).error(), rt::set_error::already_initialized);
    }());
}

rt::task<const int*> get_or_init_ptr(rt::once_cell<int>* cell, rt::notify* go) {
    co_return &co_await cell->get_or_init([go]() -> rt::task<int> {
        co_await go->notified();
        co_return 1;
    });
}

TEST(sync_once_cell, a_timed_out_initializer_leaves_the_cell_empty) {
    run_on_one_worker([]() -> rt::task<> {
        rt::once_cell<int> cell;
        rt::notify never;
        auto timed = co_await rt::timeout(5ms, get_or_init_ptr(&cell, &never));
        EXPECT_FALSE(timed.has_value());
        EXPECT_EQ(cell.get(), nullptr);
        EXPECT_TRUE(cell.set(2).has_value()); // not stuck in "initializing"
    }());
}

} // namespace
