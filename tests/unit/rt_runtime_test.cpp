// The runtime as a whole: building, idling, fairness, where tasks resume, shutdown.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <sys/resource.h>
#include <thread>

using namespace std::chrono_literals;

namespace {

double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

TEST(rt_runtime, default_runtime_has_a_worker_per_core) {
    rt::runtime r;
    EXPECT_EQ(r.worker_count(), std::max(1u, std::thread::hardware_concurrency()));
    auto b = rt::runtime::builder().worker_threads(3).thread_name("x").build();
    EXPECT_EQ(b.worker_count(), 3u);
    EXPECT_THROW(rt::runtime::builder().max_blocking_threads(0).build(), std::invalid_argument);
}

std::set<std::string> thread_names() {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(e.path() / "comm");
        std::string n;
        std::getline(comm, n);
        names.insert(n);
    }
    return names;
}

TEST(rt_runtime, threads_carry_the_configured_name) {
    auto r = rt::runtime::builder().worker_threads(2).thread_name("app").build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn_blocking([] {});
        co_await rt::sleep(5ms); // the threads have named themselves by now
    }());
    auto names = thread_names();
    EXPECT_TRUE(names.count("app-worker-0"));
    EXPECT_TRUE(names.count("app-worker-1"));
    EXPECT_TRUE(names.count("app-reactor"));
    EXPECT_TRUE(names.count("app-blocking"));
}

TEST(rt_runtime, runtime_is_movable) {
    auto a = rt::runtime::builder().worker_threads(1).build();
    rt::runtime b = std::move(a);
    EXPECT_EQ(b.block_on([]() -> rt::task<int> { co_return 1; }()), 1);
}

TEST(rt_runtime, an_idle_runtime_uses_almost_no_cpu) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    // Let start-up settle, then measure a quiet stretch with a pending far-away timer.
    r.block_on([]() -> rt::task<> { co_await rt::sleep(20ms); }());
    std::thread keeper([&r] { r.block_on([]() -> rt::task<> { co_await rt::sleep(400ms); }()); });
    std::this_thread::sleep_for(50ms);
    double before = process_cpu_seconds();
    std::this_thread::sleep_for(300ms);
    double used = process_cpu_seconds() - before;
    keeper.join();
    EXPECT_LT(used, 0.03) << "an idle runtime burned " << used << " s of CPU in 0.3 s";
}

rt::task<> never_waits(std::atomic<bool>* stop, std::atomic<long>* spins) {
    // Only operations that are ready at once: without a budget this would never yield.
    while (!stop->load()) {
        co_await rt::sleep(0ms);
        spins->fetch_add(1);
    }
}

rt::task<> stopper(std::atomic<bool>* stop) {
    stop->store(true);
    co_return;
}

TEST(rt_runtime, cooperative_budget_keeps_a_busy_task_from_starving_others) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    auto body = []() -> rt::task<long> {
        std::atomic<bool> stop{false};
        std::atomic<long> spins{0};
        auto busy = rt::spawn(never_waits(&stop, &spins));
        co_await rt::sleep(5ms);
        auto s = rt::spawn(stopper(&stop)); // queued on the only worker, behind the busy task
        co_await s;
        co_await busy;
        co_return spins.load();
    };
    EXPECT_GT(r.block_on(body()), 0);
}

TEST(rt_runtime, tasks_resume_on_worker_threads_after_an_await) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    auto main_thread = std::this_thread::get_id();
    auto body = [](std::thread::id main_id) -> rt::task<std::size_t> {
        std::set<std::thread::id> seen;
        for (int i = 0; i < 200; ++i) {
            auto h = rt::spawn([]() -> rt::task<std::thread::id> {
                co_await rt::sleep(1ms);
                co_return std::this_thread::get_id();
            }());
            auto id = co_await h;
            EXPECT_NE(*id, main_id); // spawned tasks run on workers, never on block_on's thread
            seen.insert(*id);
        }
        // block_on's own task resumes on the thread that called block_on.
        EXPECT_EQ(std::this_thread::get_id(), main_id);
        co_return seen.size();
    };
    std::size_t threads = r.block_on(body(main_thread));
    EXPECT_GE(threads, 1u);
    EXPECT_LE(threads, 2u);
}

TEST(rt_runtime, block_on_can_be_called_repeatedly_and_from_several_threads) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    std::atomic<int> total{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
        ts.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                total += r.block_on([]() -> rt::task<int> {
                    auto h = rt::spawn([]() -> rt::task<int> {
                        co_await rt::yield_now();
                        co_return 1;
                    }());
                    co_return *(co_await h);
                }());
            }
        });
    }
    for (auto& t : ts)
        t.join();
    EXPECT_EQ(total.load(), 80);
}

} // namespace
