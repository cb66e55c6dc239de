// Introspection of tasks: poll counts, states, await chains with their exact source lines,
// lookup by id, updates since a version, retention of finished tasks, and recording switched off.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace ri = rt::introspect;

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

bool from_this_file(const std::string& file) {
    return file.ends_with("introspect_tasks_test.cpp");
}

const ri::task_info* find_in(const ri::runtime_snapshot& s, rt::task_id id) {
    auto it = std::find_if(s.tasks.begin(), s.tasks.end(),
                           [id](const ri::task_info& t) { return t.id == id; });
    return it == s.tasks.end() ? nullptr : &*it;
}

// Snapshots until `pred` holds for the task `id` (or ~5 s pass); returns the last info.
rt::task<std::optional<ri::task_info>> wait_for_task(rt::task_id id,
                                                     bool (*pred)(const ri::task_info&)) {
    std::optional<ri::task_info> last;
    for (int i = 0; i < 5000; ++i) {
        last = ri::find_task(id);
        if (last && pred(*last))
            co_return last;
        co_await rt::sleep(1ms);
    }
    co_return last;
}

bool is_idle(const ri::task_info& t) {
    return t.state == ri::task_state::idle && !t.await_chain.empty();
}

rt::task<> yield_ten_times() {
    for (int i = 0; i < 10; ++i)
        co_await rt::yield_now();
}

TEST(introspect_tasks, a_task_that_yields_ten_times_then_finishes_has_exactly_eleven_polls) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto h = rt::spawn(yield_ten_times(), {.name = "yielder"});
        rt::task_id id = h.id();
        co_await h;
        auto info = ri::find_task(id);
        EXPECT_TRUE(info.has_value());
        if (!info)
            co_return;
        EXPECT_EQ(info->id, id);
        EXPECT_EQ(info->name, "yielder");
        EXPECT_EQ(info->polls, 11u);
        EXPECT_EQ(info->self_wakes, 10u);
        EXPECT_EQ(info->state, ri::task_state::done);
        EXPECT_EQ(info->outcome, ri::task_outcome::ok);
        EXPECT_TRUE(info->completed.has_value());
        EXPECT_TRUE(info->last_worker.has_value());
        EXPECT_TRUE(from_this_file(info->spawn_location.file));
    }());
}

rt::task<> yield_then_wait_twice(rt::notify* n) {
    for (int i = 0; i < 5; ++i)
        co_await rt::yield_now();
    co_await n->notified();
    co_await rt::yield_now();
    co_await n->notified();
}

// Wakes from elsewhere and self-wakes are told apart whether or not a poll is timed.
TEST(introspect_tasks, wakes_and_self_wakes_are_exact_at_every_timing_sample_rate) {
    for (std::uint32_t one_in : {1u, 2u, 16u}) {
        auto r = rt::runtime::builder().worker_threads(1).poll_timing_sample(one_in).build();
        r.block_on([]() -> rt::task<> {
            rt::notify n;
            auto h = rt::spawn(yield_then_wait_twice(&n));
            rt::task_id id = h.id();
            for (int i = 0; i < 2; ++i) {
                co_await wait_for_task(id, is_idle);
                n.notify_one();
            }
            co_await h;
            auto info = ri::find_task(id);
            EXPECT_TRUE(info.has_value());
            if (!info)
                co_return;
            EXPECT_EQ(info->polls, 9u);
            EXPECT_EQ(info->self_wakes, 6u);
            EXPECT_EQ(info->wakes, 2u);
        }());
    }
}

rt::task<> wait_on(rt::mpmc::receiver<int> rx) {
    (void)co_await rx.recv();
}
constexpr std::uint32_t recv_line = __LINE__ - 2;

TEST(introspect_tasks, a_hundred_tasks_blocked_on_one_channel_show_the_receive_and_its_line) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::join_handle<void>> hs;
        std::optional<rt::mpmc::sender<int>> tx;
        {
            auto [s, rx] = rt::mpmc::channel<int>(4);
            tx.emplace(std::move(s));
            for (int i = 0; i < 100; ++i)
                hs.push_back(rt::spawn(wait_on(rx), {.name = "waiter"}));
        }
        std::size_t seen = 0;
        for (int attempt = 0; attempt < 5000 && seen < 100; ++attempt) {
            auto snap = ri::snapshot();
            seen = 0;
            for (auto& h : hs) {
                const ri::task_info* t = find_in(snap, h.id());
                if (t != nullptr && is_idle(*t))
                    ++seen;
            }
            if (seen < 100)
                co_await rt::sleep(1ms);
        }
        EXPECT_EQ(seen, 100u);
        auto snap = ri::snapshot();
        for (auto& h : hs) {
            const ri::task_info* t = find_in(snap, h.id());
            EXPECT_NE(t, nullptr);
            if (t == nullptr)
                continue;
            EXPECT_EQ(t->name, "waiter");
            EXPECT_EQ(t->state, ri::task_state::idle);
            EXPECT_EQ(t->await_chain.size(), 1u);
            if (t->await_chain.empty())
                continue;
            const ri::await_point& p = t->await_chain.front();
            EXPECT_EQ(p.what, "mpmc::recv");
            EXPECT_TRUE(from_this_file(p.file)) << p.file;
            EXPECT_EQ(p.line, recv_line);
            EXPECT_NE(p.detail.find("channel"), std::string::npos);
        }
        tx.reset(); // closes the channel: every receive ends
        for (auto& h : hs)
            co_await h;
    }());
}

// One task parked on each kind of channel and lock: every one shows its await by name, with the
// line of its co_await.
struct parked {
    rt::mpsc::receiver<int> mpsc_rx;
    rt::oneshot::receiver<int> oneshot_rx;
    rt::broadcast::receiver<int> broadcast_rx;
    rt::watch::receiver<int> watch_rx;
    rt::mutex<int> m{0};
    rt::semaphore sem{0};
};

rt::task<> park_mpsc(parked* p) {
    (void)co_await p->mpsc_rx.recv();
}
constexpr std::uint32_t mpsc_line = __LINE__ - 2;
rt::task<> park_oneshot(parked* p) {
    (void)co_await p->oneshot_rx;
}
constexpr std::uint32_t oneshot_line = __LINE__ - 2;
rt::task<> park_broadcast(parked* p) {
    (void)co_await p->broadcast_rx.recv();
}
constexpr std::uint32_t broadcast_line = __LINE__ - 2;
rt::task<> park_watch(parked* p) {
    (void)co_await p->watch_rx.changed();
}
constexpr std::uint32_t watch_line = __LINE__ - 2;
rt::task<> park_mutex(parked* p) {
    auto g = co_await p->m.lock();
}
constexpr std::uint32_t mutex_line = __LINE__ - 2;
rt::task<> park_semaphore(parked* p) {
    auto permit = co_await p->sem.acquire();
}
constexpr std::uint32_t semaphore_line = __LINE__ - 2;

TEST(introspect_tasks, channel_and_lock_awaits_show_by_name_and_line) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto [mtx, mrx] = rt::mpsc::channel<int>(1);
        auto [otx, orx] = rt::oneshot::channel<int>();
        auto [btx, brx] = rt::broadcast::channel<int>(4);
        auto [wtx, wrx] = rt::watch::channel<int>(0);
        parked p{std::move(mrx), std::move(orx), std::move(brx), std::move(wrx)};
        auto held = co_await p.m.lock(); // park_mutex waits for it
        struct expect {
            rt::join_handle<void> h;
            const char* what;
            std::uint32_t line;
        };
        std::vector<expect> want;
        want.push_back({rt::spawn(park_mpsc(&p)), "mpsc::recv", mpsc_line});
        want.push_back({rt::spawn(park_oneshot(&p)), "oneshot::recv", oneshot_line});
        want.push_back({rt::spawn(park_broadcast(&p)), "broadcast::recv", broadcast_line});
        want.push_back({rt::spawn(park_watch(&p)), "watch::changed", watch_line});
        want.push_back({rt::spawn(park_mutex(&p)), "mutex::lock", mutex_line});
        want.push_back({rt::spawn(park_semaphore(&p)), "semaphore::acquire", semaphore_line});
        for (auto& w : want) {
            auto t = co_await wait_for_task(w.h.id(), [](const ri::task_info& i) {
                return is_idle(i) && i.await_chain.size() == 1;
            });
            EXPECT_TRUE(t.has_value()) << w.what;
            if (!t || t->await_chain.size() != 1)
                continue;
            // The spawned park_* frame is the task's root: one await, the primitive's.
            const ri::await_point& a = t->await_chain.front();
            EXPECT_EQ(a.what, w.what);
            EXPECT_EQ(a.line, w.line) << w.what;
            EXPECT_TRUE(from_this_file(a.file)) << a.file;
        }
        // Let every one finish.
        EXPECT_TRUE(co_await mtx.send(1));
        (void)std::move(otx).send(2);
        (void)btx.send(3);
        (void)wtx.send(4);
        { auto gone = std::move(held); }
        p.sem.add_permits(1);
        for (auto& w : want)
            EXPECT_TRUE(co_await w.h);
    }());
}

rt::task<> inner_wait(rt::notify* n) {
    co_await n->notified();
}
constexpr std::uint32_t inner_line = __LINE__ - 2;

rt::task<> middle_wait(rt::notify* n) {
    co_await inner_wait(n);
}
constexpr std::uint32_t middle_line = __LINE__ - 2;

rt::task<> outer_wait(rt::notify* n) {
    co_await middle_wait(n);
}
constexpr std::uint32_t outer_line = __LINE__ - 2;

TEST(introspect_tasks, nested_tasks_give_an_async_backtrace_innermost_first) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        auto h = rt::spawn(outer_wait(&n));
        auto info = co_await wait_for_task(h.id(), is_idle);
        EXPECT_TRUE(info.has_value());
        if (info) {
            EXPECT_EQ(info->await_chain.size(), 3u);
            if (info->await_chain.size() == 3) {
                EXPECT_EQ(info->await_chain[0].what, "notify::notified");
                EXPECT_EQ(info->await_chain[0].line, inner_line);
                EXPECT_EQ(info->await_chain[1].what, "task");
                EXPECT_EQ(info->await_chain[1].line, middle_line);
                EXPECT_EQ(info->await_chain[2].what, "task");
                EXPECT_EQ(info->await_chain[2].line, outer_line);
            }
        }
        n.notify_one();
        co_await h;
    }());
}

rt::task<> sleep_long() {
    co_await rt::sleep(10s);
}

rt::task<> join_other(rt::join_handle<void>* other) {
    co_await *other;
}

rt::task<> select_wait(rt::notify* n) {
    auto notified = n->notified();
    auto both = rt::select(std::move(notified), rt::sleep(10s));
    co_await both;
}

TEST(introspect_tasks, sleep_join_and_select_describe_what_they_wait_for) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        auto sleeper = rt::spawn(sleep_long());
        auto joiner = rt::spawn(join_other(&sleeper));
        auto selector = rt::spawn(select_wait(&n));
        auto s = co_await wait_for_task(sleeper.id(), is_idle);
        auto j = co_await wait_for_task(joiner.id(), is_idle);
        auto sel = co_await wait_for_task(selector.id(), is_idle);
        EXPECT_TRUE(s && j && sel);
        if (s && j && sel) {
            EXPECT_EQ(s->await_chain.front().what, "sleep");
            EXPECT_NE(s->await_chain.front().detail.find("deadline in"), std::string::npos);
            EXPECT_EQ(j->await_chain.front().what, "join");
            EXPECT_EQ(j->await_chain.front().detail, "task " + std::to_string(sleeper.id()));
            EXPECT_EQ(sel->await_chain.front().what, "select");
            EXPECT_EQ(sel->await_chain.front().detail, "2 branches: notify::notified | sleep");
        }
        n.notify_one();
        co_await selector;
        sleeper.abort();
        co_await joiner;
    }());
}

rt::task<> spin_until(std::atomic<bool>* entered, std::atomic<bool>* stop) {
    entered->store(true);
    while (!stop->load())
        ;
    co_return;
}

TEST(introspect_tasks, a_task_in_a_busy_loop_shows_running_on_a_worker) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        std::atomic<bool> entered{false}, stop{false};
        auto h = rt::spawn(spin_until(&entered, &stop), {.name = "spinner"});
        while (!entered.load())
            co_await rt::sleep(1ms);
        auto info = ri::find_task(h.id());
        EXPECT_TRUE(info.has_value());
        if (info) {
            EXPECT_EQ(info->state, ri::task_state::running);
            EXPECT_TRUE(info->last_worker.has_value());
            EXPECT_LT(info->last_worker.value_or(99), 2u);
            EXPECT_TRUE(info->await_chain.empty());
        }
        // Running past the stall threshold shows as a stall while it happens.
        bool flagged = false;
        for (int i = 0; i < 5000 && !flagged; ++i) {
            auto snap = ri::snapshot();
            for (auto& f : snap.findings)
                flagged |=
                    f.what == ri::finding::kind::stall && f.task == h.id() && f.name == "spinner";
            if (!flagged)
                co_await rt::sleep(1ms);
        }
        EXPECT_TRUE(flagged);
        stop.store(true);
        co_await h;
    }());
}

rt::task<> ping_then_wait(rt::notify* n) {
    co_await n->notified();
}

TEST(introspect_tasks, snapshot_since_a_version_lists_only_tasks_changed_after_it) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify old_n, new_n;
        auto old_task = rt::spawn(ping_then_wait(&old_n));
        co_await wait_for_task(old_task.id(), is_idle);
        // A version may go back to the start of the poll taking the snapshot (and a task that
        // went idle during it would be listed again): take it in a poll that starts later.
        co_await rt::sleep(2ms);
        auto first = ri::snapshot();
        EXPECT_NE(find_in(first, old_task.id()), nullptr);

        auto new_task = rt::spawn(ping_then_wait(&new_n));
        co_await wait_for_task(new_task.id(), is_idle);
        co_await rt::sleep(2ms);
        auto delta = ri::snapshot_since(first.version);
        EXPECT_EQ(find_in(delta, old_task.id()), nullptr);
        EXPECT_NE(find_in(delta, new_task.id()), nullptr);
        EXPECT_LT(delta.tasks.size(), first.tasks.size() + 1);

        old_n.notify_one();
        co_await old_task;
        auto delta2 = ri::snapshot_since(delta.version);
        const ri::task_info* done = find_in(delta2, old_task.id());
        EXPECT_NE(done, nullptr);
        if (done != nullptr) {
            EXPECT_EQ(done->state, ri::task_state::done);
        }
        EXPECT_EQ(find_in(delta2, new_task.id()), nullptr);
        new_n.notify_one();
        co_await new_task;
    }());
}

rt::task<> finish_at_once() {
    co_return;
}

// A snapshot taken inside a poll, then a task spawned by that same poll: the new task's stamps
// come from clock readings at hand (the poll's start, the coarse clock), which may be older than
// the snapshot's own exact reading. snapshot_since must list the task all the same.
rt::task<> snapshot_then_spawn(int rounds, int* missed) {
    for (int i = 0; i < rounds; ++i) {
        auto before = ri::snapshot();
        rt::notify n;
        auto h = rt::spawn(ping_then_wait(&n));
        co_await wait_for_task(h.id(), is_idle);
        auto delta = ri::snapshot_since(before.version);
        if (find_in(delta, h.id()) == nullptr)
            ++*missed;
        n.notify_one();
        co_await h;
    }
}

TEST(introspect_tasks, snapshot_since_lists_a_task_spawned_right_after_the_snapshot) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        int missed = 0;
        co_await rt::spawn(snapshot_then_spawn(200, &missed));
        EXPECT_EQ(missed, 0);
    }());
}

TEST(introspect_tasks, retention_keeps_a_finished_task_then_drops_it) {
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(200ms, 1000).build();
    r.block_on([]() -> rt::task<> {
        auto h = rt::spawn(finish_at_once(), {.name = "brief"});
        rt::task_id id = h.id();
        co_await h;
        auto kept = ri::find_task(id);
        EXPECT_TRUE(kept.has_value());
        if (kept) {
            EXPECT_EQ(kept->state, ri::task_state::done);
            EXPECT_EQ(kept->name, "brief");
        }
        co_await rt::sleep(400ms); // retention is a time: wait past it
        EXPECT_FALSE(ri::find_task(id).has_value());
        auto snap = ri::snapshot();
        EXPECT_EQ(find_in(snap, id), nullptr);
    }());
}

TEST(introspect_tasks, retention_is_bounded_in_count) {
    auto r = rt::runtime::builder().worker_threads(2).retain_completed(60s, 16).build();
    r.block_on([]() -> rt::task<> {
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < 200; ++i)
            hs.push_back(rt::spawn(finish_at_once()));
        for (auto& h : hs)
            co_await h;
        auto snap = ri::snapshot();
        auto done = std::count_if(snap.tasks.begin(), snap.tasks.end(), [](const ri::task_info& t) {
            return t.state == ri::task_state::done;
        });
        EXPECT_GT(done, 0);
        EXPECT_LE(done, 16);
    }());
}

rt::task<> never_woken() {
    co_await std::suspend_always{}; // registers no waker: nothing can resume it
}

rt::task<> yield_then_wait(rt::notify* n) {
    for (int i = 0; i < 20; ++i)
        co_await rt::yield_now();
    co_await n->notified();
}

TEST(introspect_tasks, findings_flag_a_lost_waker_and_a_task_that_wakes_itself_every_poll) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        auto lost = rt::spawn(never_woken(), {.name = "lost"});
        auto selfish = rt::spawn(yield_then_wait(&n), {.name = "selfish"});
        co_await wait_for_task(lost.id(), is_idle);
        co_await wait_for_task(selfish.id(), is_idle);
        auto snap = ri::snapshot();
        bool lost_flag = false, self_flag = false, selfish_lost = false;
        for (auto& f : snap.findings) {
            lost_flag |= f.what == ri::finding::kind::lost_waker && f.task == lost.id() &&
                         f.name == "lost" && from_this_file(f.spawn_location.file);
            selfish_lost |= f.what == ri::finding::kind::lost_waker && f.task == selfish.id();
            self_flag |= f.what == ri::finding::kind::self_wakes && f.task == selfish.id();
        }
        EXPECT_TRUE(lost_flag);
        EXPECT_TRUE(self_flag);
        EXPECT_FALSE(selfish_lost);
        n.notify_one();
        co_await selfish;
        lost.abort();
        co_await lost;
    }());
}

TEST(introspect_tasks, recording_off_gives_empty_data_and_everything_still_works) {
    std::atomic<int> stalls{0};
    auto r = rt::runtime::builder()
                 .worker_threads(2)
                 .introspection(false)
                 .on_stall([&stalls](const ri::stall&) { stalls.fetch_add(1); })
                 .build();
    int got = r.block_on([]() -> rt::task<int> {
        auto h = rt::spawn(yield_ten_times());
        rt::task_id id = h.id();
        co_await h;
        auto [tx, rx] = rt::mpmc::channel<int>(1);
        co_await tx.send(7);
        auto v = co_await rx.recv();
        co_await rt::sleep(2ms);
        auto snap = ri::snapshot();
        EXPECT_FALSE(snap.recording);
        EXPECT_TRUE(snap.tasks.empty());
        EXPECT_TRUE(snap.findings.empty());
        EXPECT_EQ(snap.poll_duration.count(), 0u);
        EXPECT_EQ(snap.scheduling_delay.count(), 0u);
        EXPECT_EQ(snap.reactor.timer_lateness.count(), 0u);
        EXPECT_FALSE(ri::find_task(id).has_value());
        auto spin_start = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - spin_start < 20ms) {
        }
        co_return v.value_or(0);
    }());
    EXPECT_EQ(got, 7);
    EXPECT_EQ(stalls.load(), 0);
    EXPECT_TRUE(r.snapshot().tasks.empty());
}

TEST(introspect_tasks, the_runtime_handle_snapshots_from_outside) {
    auto r = make_runtime();
    rt::task_id id = 0;
    r.block_on([](rt::task_id* out) -> rt::task<> {
        auto h = rt::spawn(yield_ten_times(), {.name = "outside"});
        *out = h.id();
        co_await h;
    }(&id));
    auto info = r.find_task(id);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->polls, 11u);
    EXPECT_NE(find_in(r.snapshot(), id), nullptr);
}

} // namespace
