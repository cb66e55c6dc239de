// spawn, join handles, abort at every kind of await point, ids, and spawning without a runtime.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime(std::size_t workers = 2) {
    return rt::runtime::builder().worker_threads(workers).build();
}

// Counts live instances so tests can prove that cancelled frames are destroyed.
struct counted {
    static inline std::atomic<int> live{0};
    counted() { ++live; }
    counted(const counted&) { ++live; }
    ~counted() { --live; }
};

rt::task<int> square(int x) {
    co_return x* x;
}

TEST(rt_spawn, join_gives_the_value) {
    auto r = make_runtime();
    auto body = []() -> rt::task<int> {
        auto h = rt::spawn(square(9));
        auto res = co_await h;
        EXPECT_TRUE(res.has_value());
        co_return *res;
    };
    EXPECT_EQ(r.block_on(body()), 81);
}

TEST(rt_spawn, many_tasks_across_workers_all_complete_with_their_values) {
    auto r = make_runtime();
    auto body = []() -> rt::task<long> {
        std::vector<rt::join_handle<int>> hs;
        for (int i = 0; i < 20'000; ++i)
            hs.push_back(rt::spawn(square(i % 100)));
        long total = 0;
        for (auto& h : hs)
            total += *(co_await h);
        co_return total;
    };
    long expected = 0;
    for (int i = 0; i < 20'000; ++i)
        expected += (i % 100) * (i % 100);
    EXPECT_EQ(r.block_on(body()), expected);
}

TEST(rt_spawn, thrown_exception_is_a_panic_join_error) {
    auto r = make_runtime();
    auto body = []() -> rt::task<std::string> {
        auto h = rt::spawn([]() -> rt::task<int> {
            throw std::runtime_error("task failed");
            co_return 1;
        }());
        auto res = co_await h;
        EXPECT_FALSE(res);
        EXPECT_TRUE(res.error().is_panic());
        EXPECT_FALSE(res.error().is_cancelled());
        EXPECT_THROW(res.error().rethrow(), std::runtime_error);
        co_return res.error().what();
    };
    EXPECT_EQ(r.block_on(body()), "task failed");
}

TEST(rt_spawn, handle_stays_valid_after_join) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        auto h = rt::spawn(square(3));
        auto id = h.id();
        auto res = co_await h;
        EXPECT_EQ(*res, 9);
        EXPECT_TRUE(h.is_finished());
        EXPECT_EQ(h.id(), id);
        h.abort();                                  // no effect on a finished task
        EXPECT_THROW(co_await h, std::logic_error); // the value was moved out
    };
    r.block_on(body());
}

TEST(rt_spawn, ids_are_unique_and_match_this_task) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        std::vector<rt::join_handle<rt::task_id>> hs;
        for (int i = 0; i < 100; ++i)
            hs.push_back(
                rt::spawn([]() -> rt::task<rt::task_id> { co_return rt::this_task::id(); }()));
        std::set<rt::task_id> seen;
        for (auto& h : hs) {
            auto inner = co_await h;
            EXPECT_EQ(*inner, h.id());
            seen.insert(*inner);
        }
        EXPECT_EQ(seen.size(), 100u);
    };
    r.block_on(body());
    EXPECT_FALSE(rt::this_task::try_id().has_value());
    EXPECT_THROW(rt::this_task::id(), std::logic_error);
}

TEST(rt_spawn, spawn_outside_a_runtime_throws_and_leaves_the_task_alone) {
    auto t = square(2);
    EXPECT_THROW((void)rt::spawn(std::move(t)), std::runtime_error);
    EXPECT_TRUE(t.valid());
    EXPECT_THROW((void)rt::spawn_blocking([] { return 1; }), std::runtime_error);
}

TEST(rt_spawn, dropping_the_handle_detaches) {
    auto r = make_runtime();
    std::atomic<bool> ran{false};
    auto body = [](std::atomic<bool>* flag) -> rt::task<> {
        {
            auto h = rt::spawn([](std::atomic<bool>* f) -> rt::task<> {
                co_await rt::sleep(20ms);
                f->store(true);
            }(flag));
        }
        co_await rt::sleep(200ms);
    };
    r.block_on(body(&ran));
    EXPECT_TRUE(ran.load());
}

TEST(rt_spawn, named_spawn_is_accepted) {
    auto r = make_runtime();
    auto body = []() -> rt::task<int> {
        std::string name = "worker-job";
        auto h = rt::spawn(square(4), rt::spawn_options{.name = name});
        name.clear(); // the name is copied
        co_return *(co_await h);
    };
    EXPECT_EQ(r.block_on(body()), 16);
}

// ---- abort at every kind of await point ----

rt::task<> sleeps_forever(std::atomic<bool>* started) {
    counted c;
    started->store(true);
    co_await rt::sleep(1h);
}

rt::task<> yields_forever(std::atomic<bool>* started) {
    counted c;
    started->store(true);
    for (;;)
        co_await rt::yield_now();
}

rt::task<> joins_forever(std::atomic<bool>* started) {
    counted c;
    auto inner = rt::spawn(sleeps_forever(started));
    co_await inner;
}

rt::task<> nested_forever(std::atomic<bool>* started) {
    counted c;
    co_await sleeps_forever(started);
}

rt::task<> timeout_forever(std::atomic<bool>* started) {
    counted c;
    (void)co_await rt::timeout(1h, sleeps_forever(started));
}

rt::task<> select_forever(std::atomic<bool>* started) {
    counted c;
    (void)co_await rt::select(sleeps_forever(started), rt::sleep(2h));
}

rt::task<> blocking_join_forever(std::atomic<bool>* started) {
    counted c;
    auto b = rt::spawn_blocking([started] {
        started->store(true);
        std::this_thread::sleep_for(50ms);
        return 1;
    });
    co_await b;
    co_await rt::sleep(1h);
}

using forever_fn = rt::task<> (*)(std::atomic<bool>*);

struct await_point {
    const char* name;
    forever_fn fn;
};

void PrintTo(const await_point& p, std::ostream* os) {
    *os << p.name;
}

class rt_abort : public ::testing::TestWithParam<await_point> {};

TEST_P(rt_abort, destroys_the_frame_and_reports_cancelled) {
    auto r = make_runtime();
    auto body = [](forever_fn fn) -> rt::task<> {
        std::atomic<bool> started{false};
        auto h = rt::spawn(fn(&started));
        while (!started.load())
            co_await rt::sleep(1ms);
        co_await rt::sleep(5ms); // let it reach its await point
        h.abort();
        auto res = co_await h;
        EXPECT_FALSE(res);
        EXPECT_TRUE(res.error().is_cancelled());
        EXPECT_TRUE(h.is_finished());
    };
    r.block_on(body(GetParam().fn));
    // The spawned inner tasks of some variants are detached and cancelled at shutdown.
    r = make_runtime();
    EXPECT_EQ(counted::live.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    await_points, rt_abort,
    ::testing::Values(await_point{"sleep", &sleeps_forever}, await_point{"yield", &yields_forever},
                      await_point{"join", &joins_forever}, await_point{"nested", &nested_forever},
                      await_point{"timeout", &timeout_forever},
                      await_point{"select", &select_forever},
                      await_point{"blocking_join", &blocking_join_forever}),
    [](const ::testing::TestParamInfo<await_point>& p) { return std::string(p.param.name); });

TEST(rt_spawn, abort_of_a_running_task_takes_effect_at_its_next_await) {
    auto r = make_runtime();
    auto body = []() -> rt::task<> {
        std::atomic<bool> in_loop{false};
        std::atomic<bool> aborted{false};
        std::atomic<int> after_await{0};
        auto h = rt::spawn([](std::atomic<bool>* loop, std::atomic<bool>* ab,
                              std::atomic<int>* after) -> rt::task<> {
            loop->store(true);
            while (!ab->load()) {
            } // busy: the abort arrives while this poll runs
            co_await rt::yield_now();
            after->fetch_add(1);
        }(&in_loop, &aborted, &after_await));
        while (!in_loop.load())
            co_await rt::sleep(1ms);
        h.abort();
        aborted.store(true);
        auto res = co_await h;
        EXPECT_TRUE(!res && res.error().is_cancelled());
        EXPECT_EQ(after_await.load(), 0);
    };
    r.block_on(body());
}

rt::task<int> holds_a_counted(counted c, int v) {
    (void)c;
    co_return v;
}

TEST(rt_spawn, a_finished_task_releases_its_frame_while_the_handle_lives) {
    counted::live = 0;
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto h = rt::spawn(holds_a_counted(counted{}, 5));
        while (!h.is_finished())
            co_await rt::yield_now();
        // Parameters and locals are gone with the frame (as Tokio drops a finished future),
        // though the handle has not been awaited or dropped yet.
        EXPECT_EQ(counted::live.load(), 0);
        EXPECT_EQ(*(co_await h), 5);
    }());
}

TEST(rt_spawn, runtime_destroyed_with_pending_tasks_destroys_their_frames) {
    counted::live = 0;
    {
        auto r = make_runtime();
        auto body = []() -> rt::task<> {
            static std::atomic<bool> started{false};
            for (int i = 0; i < 1000; ++i)
                (void)rt::spawn(sleeps_forever(&started));
            for (int i = 0; i < 100; ++i)
                (void)rt::spawn(joins_forever(&started));
            co_await rt::sleep(20ms);
        };
        r.block_on(body());
        EXPECT_GT(counted::live.load(), 0);
    }
    EXPECT_EQ(counted::live.load(), 0);
}

TEST(rt_spawn, join_handle_outliving_the_runtime_reports_cancelled) {
    rt::join_handle<void> kept;
    {
        auto r = make_runtime();
        kept = r.block_on([]() -> rt::task<rt::join_handle<void>> {
            static std::atomic<bool> started{false};
            co_return rt::spawn(sleeps_forever(&started));
        }());
    }
    EXPECT_TRUE(kept.is_finished());
    kept.abort(); // harmless
}

} // namespace
