// Retention of finished tasks: each worker keeps the records of the tasks that finish on it, and
// tasks finishing elsewhere share one more ring. Snapshots show the records in the order the
// tasks finished, within the count and the age given to runtime_builder::retain_completed, and
// never a record torn by a completion racing the snapshot.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace ri = rt::introspect;

namespace {

const ri::task_info* find_in(const ri::runtime_snapshot& s, rt::task_id id) {
    auto it = std::find_if(s.tasks.begin(), s.tasks.end(),
                           [id](const ri::task_info& t) { return t.id == id; });
    return it == s.tasks.end() ? nullptr : &*it;
}

std::vector<const ri::task_info*> done_tasks(const ri::runtime_snapshot& s) {
    std::vector<const ri::task_info*> out;
    for (const auto& t : s.tasks)
        if (t.state == ri::task_state::done)
            out.push_back(&t);
    return out;
}

rt::task<> finish_at_once() {
    co_return;
}

rt::task<> yield_times(int n) {
    for (int i = 0; i < n; ++i)
        co_await rt::yield_now();
}

TEST(introspect_retention, finished_tasks_show_in_the_order_they_finished_with_exact_counts) {
    auto r = rt::runtime::builder().worker_threads(1).retain_completed(60s, 1000).build();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::task_id> ids;
        for (int i = 0; i < 50; ++i) {
            auto h = rt::spawn(yield_times(i % 4), {.name = "ordered-" + std::to_string(i)});
            ids.push_back(h.id());
            co_await h;
        }
        auto snap = ri::snapshot();
        std::vector<rt::task_id> seen;
        for (const ri::task_info* t : done_tasks(snap))
            if (std::find(ids.begin(), ids.end(), t->id) != ids.end())
                seen.push_back(t->id);
        EXPECT_EQ(seen, ids);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            const ri::task_info* t = find_in(snap, ids[i]);
            if (t == nullptr)
                continue;
            EXPECT_EQ(t->name, "ordered-" + std::to_string(i));
            EXPECT_EQ(t->outcome, ri::task_outcome::ok);
            EXPECT_EQ(t->polls, i % 4 + 1);
            EXPECT_EQ(t->self_wakes, i % 4);
            EXPECT_EQ(t->wakes, 0u);
            EXPECT_TRUE(t->last_worker.has_value());
            EXPECT_LE(t->created, *t->completed);
        }
    }());
}

TEST(introspect_retention, each_ring_keeps_its_newest_records_within_the_count) {
    // 30 records in all: 10 for each of the two workers and 10 for other threads.
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(60s, 30).build();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < 500; ++i)
            hs.push_back(rt::spawn(finish_at_once()));
        for (auto& h : hs)
            co_await h;
        auto last = rt::spawn(finish_at_once());
        rt::task_id last_id = last.id();
        co_await last;
        auto snap = ri::snapshot();
        auto done = done_tasks(snap);
        EXPECT_GT(done.size(), 0u);
        EXPECT_LE(done.size(), 30u);
        // The newest record of whichever worker ran it.
        EXPECT_NE(find_in(snap, last_id), nullptr);
        EXPECT_TRUE(ri::find_task(last_id).has_value());
    }());
}

TEST(introspect_retention, records_age_out_of_snapshots_and_lookups) {
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(150ms, 1000).build();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::task_id> ids;
        for (int i = 0; i < 20; ++i) {
            auto h = rt::spawn(finish_at_once());
            ids.push_back(h.id());
            co_await h;
        }
        auto before = ri::snapshot();
        for (rt::task_id id : ids)
            EXPECT_NE(find_in(before, id), nullptr);
        co_await rt::sleep(400ms);
        auto after = ri::snapshot();
        for (rt::task_id id : ids) {
            EXPECT_EQ(find_in(after, id), nullptr);
            EXPECT_FALSE(ri::find_task(id).has_value());
        }
    }());
}

TEST(introspect_retention, tasks_finishing_off_the_workers_are_kept_too) {
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(60s, 1000).build();
    r.block_on([]() -> rt::task<> {
        auto h = rt::spawn_blocking([] { return 7; });
        rt::task_id id = h.id();
        auto v = co_await h;
        EXPECT_EQ(v.value_or(0), 7);
        auto kept = ri::find_task(id);
        EXPECT_TRUE(kept.has_value());
        if (!kept)
            co_return;
        EXPECT_EQ(kept->state, ri::task_state::done);
        EXPECT_EQ(kept->kind, rt::task_kind::blocking);
        EXPECT_EQ(kept->polls, 1u);
    }());
}

TEST(introspect_retention, names_are_kept_whole_up_to_the_record_and_cut_beyond) {
    auto r = rt::runtime::builder().worker_threads(1).retain_completed(60s, 1000).build();
    r.block_on([]() -> rt::task<> {
        const std::string names[] = {
            "", "a", "1234567", "12345678", "1234567890abcdef", "0123456789abcdefghijklm"};
        for (const std::string& name : names) {
            auto h = rt::spawn(finish_at_once(), {.name = name});
            rt::task_id id = h.id();
            co_await h;
            auto kept = ri::find_task(id);
            EXPECT_TRUE(kept.has_value());
            if (kept) {
                EXPECT_EQ(kept->name, name);
            }
        }
        const std::string long_name(100, 'x');
        auto h = rt::spawn(finish_at_once(), {.name = long_name});
        rt::task_id id = h.id();
        co_await h;
        auto kept = ri::find_task(id);
        EXPECT_TRUE(kept.has_value());
        if (!kept)
            co_return;
        EXPECT_GE(kept->name.size(), 23u);
        EXPECT_LT(kept->name.size(), long_name.size());
        EXPECT_TRUE(long_name.starts_with(kept->name));
    }());
}

// Named so that a record's name says what its counters must be: a torn copy (name of one task,
// counters of another) would not match.
rt::task<> yield_as_named(int yields) {
    for (int i = 0; i < yields; ++i)
        co_await rt::yield_now();
}

// Spawns and joins named tasks until told to stop (at least `min` of them).
rt::task<> churn(int first, int min, std::atomic<bool>* stop) {
    for (int i = first; i < first + min || !stop->load(); ++i) {
        auto h = rt::spawn(yield_as_named(i % 3), {.name = "churn-" + std::to_string(i % 3)});
        co_await h;
    }
}

TEST(introspect_retention, snapshots_racing_completions_see_every_task_and_no_torn_record) {
    // Small rings, so that writers lap them while the snapshots copy. The churn goes on until
    // the snapshots have checked enough records: a churn of fixed length could end before the
    // first snapshot.
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(60s, 6).build();
    r.block_on([]() -> rt::task<> {
        std::atomic<bool> stop{false};
        auto a = rt::spawn(churn(0, 100, &stop));
        auto b = rt::spawn(churn(1, 100, &stop));
        std::uint64_t checked = 0; // finished churn tasks seen, whole
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (checked < 300 && std::chrono::steady_clock::now() < give_up) {
            auto snap = ri::snapshot();
            for (const ri::task_info* t : done_tasks(snap)) {
                if (!t->name.starts_with("churn-"))
                    continue;
                std::uint64_t yields = std::stoul(t->name.substr(6));
                EXPECT_EQ(t->polls, yields + 1) << t->name;
                EXPECT_EQ(t->self_wakes, yields) << t->name;
                EXPECT_EQ(t->wakes, 0u) << t->name;
                ++checked;
            }
            co_await rt::yield_now();
        }
        stop.store(true);
        co_await a;
        co_await b;
        EXPECT_GE(checked, 300u);
    }());
}

rt::task<> finish_after_yields(int n) {
    for (int i = 0; i < n; ++i)
        co_await rt::yield_now();
}

TEST(introspect_retention, a_task_finished_before_a_snapshot_is_in_it_live_or_kept) {
    // Room for every task: none may be missing, however its completion raced the snapshot.
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(60s, 100000).build();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::join_handle<void>> hs;
        std::vector<rt::task_id> ids;
        for (int round = 0; round < 20; ++round) {
            for (int i = 0; i < 50; ++i) {
                hs.push_back(rt::spawn(finish_after_yields(i % 5)));
                ids.push_back(hs.back().id());
            }
            // Every task spawned so far has been listed: it is live or finished, and shows.
            auto snap = ri::snapshot();
            std::vector<rt::task_id> shown;
            for (const auto& t : snap.tasks)
                shown.push_back(t.id);
            std::sort(shown.begin(), shown.end());
            for (rt::task_id id : ids)
                EXPECT_TRUE(std::binary_search(shown.begin(), shown.end(), id)) << id;
        }
        for (auto& h : hs)
            co_await h;
    }());
}

} // namespace
