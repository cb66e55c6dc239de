// Introspection of the runtime: stall reports, queue depths and steals under a constructed
// workload, timer lateness, the blocking pool, and the scheduling-delay finding.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace ri = rt::introspect;

namespace {

bool from_this_file(const std::string& file) {
    return file.ends_with("introspect_runtime_test.cpp");
}

void spin_for(std::chrono::nanoseconds d) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < d) {
    }
}

// One poll that never yields: it spins until the stall has been reported (at most 5 s), and
// at least 30 ms, so a report made after the poll ends could never be seen here.
rt::task<> stall_once(std::atomic<bool>* reported, bool* seen_while_running) {
    auto start = std::chrono::steady_clock::now();
    while (!reported->load() && std::chrono::steady_clock::now() - start < 5s) {
    }
    *seen_while_running = reported->load();
    spin_for(30ms);
    co_return;
}

TEST(introspect_runtime, a_stall_is_reported_as_it_happens_with_name_and_location) {
    std::mutex mu;
    std::vector<ri::stall> seen;
    std::atomic<bool> reported{false};
    auto r = rt::runtime::builder()
                 .worker_threads(2)
                 .on_stall([&](const ri::stall& s) {
                     std::lock_guard lock(mu);
                     seen.push_back(s);
                     reported.store(true);
                 })
                 .build();
    std::uint32_t line = 0;
    bool while_running = false;
    rt::task_id id =
        r.block_on([](std::uint32_t* l, std::atomic<bool>* rep, bool* wr) -> rt::task<rt::task_id> {
            auto h = rt::spawn(stall_once(rep, wr), {.name = "staller"});
            *l = __LINE__ - 1; // the spawn's line
            co_await h;
            co_return h.id();
        }(&line, &reported, &while_running));
    EXPECT_TRUE(while_running); // the callback came while the poll was still running
    std::lock_guard lock(mu);
    auto it =
        std::find_if(seen.begin(), seen.end(), [id](const ri::stall& s) { return s.task == id; });
    ASSERT_NE(it, seen.end());
    EXPECT_EQ(it->name, "staller");
    EXPECT_TRUE(from_this_file(it->spawn_location.file)) << it->spawn_location.file;
    EXPECT_EQ(it->spawn_location.line, line);
    EXPECT_GE(it->duration, 10ms); // at least the threshold: no short poll is called a stall
    EXPECT_LT(it->worker, 2u);
    // Quick polls are not stalls.
    EXPECT_EQ(std::count_if(seen.begin(), seen.end(),
                            [](const ri::stall& s) { return s.name == "block_on"; }),
              0);
    // When the poll ended, the finding took its full length: past the report, plus 30 ms.
    auto snap = r.snapshot();
    auto found =
        std::find_if(snap.findings.begin(), snap.findings.end(), [id](const ri::finding& f) {
            return f.what == ri::finding::kind::stall && f.task == id && f.name == "staller";
        });
    ASSERT_NE(found, snap.findings.end());
    EXPECT_GE(found->duration, it->duration + 30ms);
}

rt::task<> short_work(std::atomic<int>* done) {
    spin_for(200us);
    done->fetch_add(1);
    co_return;
}

// Runs on one worker: spawns `n` tasks into its own queue, then keeps the worker busy so only a
// steal by the other worker can run them.
rt::task<> flood(int n, std::atomic<int>* done, std::size_t* depth_seen, std::uint32_t* my_worker,
                 std::uint64_t* steals_seen) {
    for (int i = 0; i < n; ++i)
        rt::spawn(short_work(done));
    auto snap = rt::introspect::snapshot();
    auto me = rt::introspect::find_task(rt::this_task::id());
    *my_worker = me && me->last_worker ? *me->last_worker : 99;
    if (*my_worker < snap.workers.size())
        *depth_seen = snap.workers[*my_worker].local_queue_depth;
    // Busy, without yielding, until the other worker has stolen and run all it can: everything
    // but the task in our LIFO slot, which is not stealable.
    auto give_up = std::chrono::steady_clock::now() + 10s;
    while (done->load() < n - 1 && std::chrono::steady_clock::now() < give_up) {
    }
    auto after = rt::introspect::snapshot();
    for (auto& w : after.workers)
        if (w.index != *my_worker)
            *steals_seen += w.steals;
    co_return;
}

TEST(introspect_runtime, queue_depths_and_steals_move_as_a_constructed_workload_forces_them) {
    // Every poll timed, so the histograms count exactly the polls.
    auto r = rt::runtime::builder().worker_threads(2).poll_timing_sample(1).build();
    auto before = r.snapshot();
    std::uint64_t steals_before = 0;
    for (auto& w : before.workers)
        steals_before += w.steals;
    r.block_on([]() -> rt::task<> {
        constexpr int n = 200;
        std::atomic<int> done{0};
        std::size_t depth = 0;
        std::uint32_t worker = 99;
        std::uint64_t steals = 0;
        auto h = rt::spawn(flood(n, &done, &depth, &worker, &steals));
        co_await h;
        // The task left in flood's LIFO slot runs once flood's poll ends.
        for (int i = 0; i < 5000 && done.load() < n; ++i)
            co_await rt::sleep(1ms);
        EXPECT_LT(worker, 2u);
        // The LIFO slot holds one; the rest queued locally (a steal may already have taken some).
        EXPECT_GE(depth, std::size_t{n / 4});
        EXPECT_EQ(done.load(), n);
        EXPECT_GE(steals, 1u);
        auto snap = ri::snapshot();
        std::uint64_t stolen = 0, steal_ops = 0;
        for (auto& w : snap.workers) {
            stolen += w.stolen_tasks;
            steal_ops += w.steals;
            EXPECT_EQ(w.local_queue_depth, 0u);
        }
        EXPECT_GE(stolen, steal_ops);
        EXPECT_GE(stolen, std::uint64_t{n / 2} - 1);
        EXPECT_EQ(snap.global_queue_depth, 0u);
    }());
    auto after = r.snapshot();
    std::uint64_t polls = 0;
    for (auto& w : after.workers)
        polls += w.polls;
    EXPECT_GE(polls, 200u);
    EXPECT_GE(after.poll_duration.count(), 200u);
    EXPECT_GE(after.scheduling_delay.count(), 200u);
    (void)steals_before;
}

rt::task<> sleep_ten() {
    co_await rt::sleep(10ms);
}

TEST(introspect_runtime, timer_lateness_of_a_ten_millisecond_sleep_is_small_and_positive) {
    // Every poll timed: the one event-to-poll sample below must not be left out by sampling.
    auto r = rt::runtime::builder().worker_threads(2).poll_timing_sample(1).build();
    r.block_on([]() -> rt::task<> {
        auto before = ri::snapshot();
        EXPECT_EQ(before.reactor.timer_lateness.count(), 0u);
        auto start = std::chrono::steady_clock::now();
        co_await rt::spawn(sleep_ten());
        EXPECT_GE(std::chrono::steady_clock::now() - start, 10ms);
        auto after = ri::snapshot();
        EXPECT_EQ(after.reactor.timer_lateness.count(), 1u);
        EXPECT_GT(after.reactor.timer_lateness.max(), 0u);
        // Small: the reactor fires within a few ms of the tick (50 ms of slack for a loaded
        // machine running sanitizers).
        EXPECT_LT(after.reactor.timer_lateness.quantile(0.5), std::uint64_t{50'000'000})
            << "lateness max " << after.reactor.timer_lateness.max() << " ns";
        EXPECT_GE(after.reactor.timer_wakeups, 1u);
        EXPECT_GE(after.reactor.iterations, 1u);
        // The woken task was polled on a worker: one event-to-poll sample, recorded just after
        // that poll (which woke us), so it may land a moment later.
        for (int i = 0; i < 5000 && after.reactor.event_to_poll.count() == 0; ++i) {
            co_await rt::sleep(1ms);
            after = ri::snapshot();
        }
        EXPECT_GE(after.reactor.event_to_poll.count(), 1u);
        EXPECT_LT(after.reactor.event_to_poll.quantile(1.0), std::uint64_t{1'000'000'000});
    }());
}

TEST(introspect_runtime, the_blocking_pool_reports_threads_and_a_joined_blocking_task) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        std::atomic<bool> release{false}, started{false};
        auto b = rt::spawn_blocking(
            [&] {
                started.store(true);
                while (!release.load())
                    std::this_thread::sleep_for(1ms);
                return 5;
            },
            {.name = "blocker"});
        while (!started.load())
            co_await rt::sleep(1ms);
        auto snap = ri::snapshot();
        EXPECT_GE(snap.blocking.threads, 1u);
        auto info = ri::find_task(b.id());
        EXPECT_TRUE(info.has_value());
        if (info) {
            EXPECT_EQ(info->kind, rt::task_kind::blocking);
            EXPECT_EQ(info->state, ri::task_state::running);
            EXPECT_EQ(info->name, "blocker");
        }
        release.store(true);
        auto v = co_await b;
        EXPECT_EQ(v.value_or(0), 5);
        auto done = ri::find_task(b.id());
        EXPECT_TRUE(done.has_value());
        if (done) {
            EXPECT_EQ(done->state, ri::task_state::done);
            EXPECT_EQ(done->polls, 1u);
        }
        EXPECT_GE(ri::snapshot().blocking.tasks_run, 1u);
    }());
}

rt::task<> record_flag(std::atomic<bool>* ran) {
    ran->store(true);
    co_return;
}

// With one worker busy, a task spawned behind it waits in the queue past the threshold.
rt::task<> hog_then_look(std::atomic<bool>* ran, bool* found, bool* stall_now) {
    auto h = rt::spawn(record_flag(ran), {.name = "starved"});
    spin_for(60ms);
    auto snap = ri::snapshot();
    for (auto& f : snap.findings) {
        *found |= f.what == ri::finding::kind::scheduled_too_long && f.task == h.id() &&
                  f.name == "starved" && f.duration >= 20ms;
        *stall_now |= f.what == ri::finding::kind::stall && f.task == rt::this_task::id();
    }
    co_await h;
}

TEST(introspect_runtime, a_task_scheduled_but_not_polled_for_too_long_is_a_finding) {
    auto r = rt::runtime::builder().worker_threads(1).scheduled_threshold(20ms).build();
    r.block_on([]() -> rt::task<> {
        std::atomic<bool> ran{false};
        bool found = false, stall_now = false;
        co_await rt::spawn(hog_then_look(&ran, &found, &stall_now));
        EXPECT_TRUE(ran.load());
        EXPECT_TRUE(found);
        EXPECT_TRUE(stall_now); // its own poll, 60 ms in, shows as a stall in progress
    }());
}

rt::task<> receive_one(rt::mpmc::receiver<int> rx) {
    (void)co_await rx.recv();
}

// Snapshots pin idle tasks while wakes fly: nothing may be lost, nothing read while it runs.
TEST(introspect_runtime, snapshots_racing_with_wakes_lose_no_wake) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    std::atomic<bool> stop{false};
    std::thread watcher([&] {
        while (!stop.load()) {
            auto s = r.snapshot();
            for (auto& t : s.tasks)
                if (t.state == ri::task_state::idle) {
                    EXPECT_LE(t.await_chain.size(), 2u);
                }
        }
    });
    r.block_on([]() -> rt::task<> {
        for (int round = 0; round < 200; ++round) {
            auto [tx, rx] = rt::mpmc::channel<int>(8);
            std::vector<rt::join_handle<void>> hs;
            for (int i = 0; i < 8; ++i)
                hs.push_back(rt::spawn(receive_one(rx)));
            co_await rt::yield_now();
            for (int i = 0; i < 8; ++i) {
                auto send = tx.send(i);
                co_await send;
            }
            for (auto& h : hs)
                co_await h;
        }
    }());
    stop.store(true);
    watcher.join();
}

} // namespace

rt::task<> spin_and_yield(int polls, std::chrono::microseconds each) {
    for (int i = 0; i + 1 < polls; ++i) {
        spin_for(each);
        co_await rt::yield_now();
    }
    spin_for(each);
}

// By default one worker poll in 32 is timed and weighs 32: counts stay exact, times and
// histograms are estimates that land near the truth.
TEST(introspect_runtime, sampled_timing_keeps_counts_exact_and_estimates_near_the_truth) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    r.block_on([]() -> rt::task<> {
        constexpr int polls = 1600;
        auto before = ri::snapshot();
        EXPECT_EQ(before.poll_timing_sample, 32u);
        auto h = rt::spawn(spin_and_yield(polls, 25us), {.name = "sampled"});
        co_await h;
        auto info = ri::find_task(h.id());
        EXPECT_TRUE(info.has_value());
        if (!info)
            co_return;
        EXPECT_EQ(info->polls, std::uint64_t{polls});
        EXPECT_EQ(info->self_wakes, std::uint64_t{polls - 1});
        // 1600 polls of >= 25 us: 40 ms at least. About 50 of them are timed, so the estimate
        // is within a few standard deviations (14% each) of the truth; allow 50% below (3.6
        // deviations), and above for a slow machine as well.
        EXPECT_GE(info->busy, 20ms);
        EXPECT_LT(info->busy, 2s);
        auto after = ri::snapshot();
        std::uint64_t worker_polls = 0;
        for (auto& w : after.workers)
            worker_polls += w.polls;
        for (auto& w : before.workers)
            worker_polls -= w.polls;
        std::uint64_t counted = after.poll_duration.count() - before.poll_duration.count();
        EXPECT_GE(counted, worker_polls / 2);
        EXPECT_LE(counted, worker_polls * 2);
    }());
}

// poll_timing_sample(1): every worker poll timed, each counted once.
TEST(introspect_runtime, timing_every_poll_counts_every_poll_once) {
    auto r = rt::runtime::builder().worker_threads(2).poll_timing_sample(1).build();
    r.block_on([]() -> rt::task<> {
        auto before = ri::snapshot();
        co_await rt::spawn(spin_and_yield(300, 1us));
        // A poll is recorded just after it ends, and the last one woke us: give the worker a
        // moment to record it (the block_on thread's own polls are not counted).
        std::uint64_t worker_polls = 0, timed = 0, delays = 0;
        for (int i = 0; i < 1000; ++i) {
            auto after = ri::snapshot();
            worker_polls = 0;
            for (auto& w : after.workers)
                worker_polls += w.polls;
            for (auto& w : before.workers)
                worker_polls -= w.polls;
            timed = after.poll_duration.count() - before.poll_duration.count();
            delays = after.scheduling_delay.count() - before.scheduling_delay.count();
            if (timed == worker_polls && delays == worker_polls)
                break;
            co_await rt::sleep(1ms);
        }
        EXPECT_GE(worker_polls, 300u);
        EXPECT_EQ(timed, worker_polls);
        EXPECT_EQ(delays, worker_polls);
    }());
}

TEST(introspect_runtime, poll_timing_sample_is_rounded_up_to_a_power_of_two) {
    auto r = rt::runtime::builder().worker_threads(1).poll_timing_sample(5).build();
    EXPECT_EQ(r.snapshot().poll_timing_sample, 8u);
    auto exact = rt::runtime::builder().worker_threads(1).poll_timing_sample(0).build();
    EXPECT_EQ(exact.snapshot().poll_timing_sample, 1u);
    EXPECT_THROW(rt::runtime::builder().poll_timing_sample(1u << 21).build(),
                 std::invalid_argument);
}
