// Randomized many-task workloads for rt::mutex, rt::rw_lock, rt::semaphore, rt::barrier and
// rt::once_cell on a 2-worker runtime: random yields, timeouts, selects and aborts, with every
// count checked exactly at the end. Scale with RT_STRESS_SCALE (default 1).
#include <rt/rt.hpp>
#include <rt/sync/barrier.hpp>
#include <rt/sync/mutex.hpp>
#include <rt/sync/once_cell.hpp>
#include <rt/sync/rw_lock.hpp>
#include <rt/sync/semaphore.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;

namespace {

int scale() {
    const char* s = std::getenv("RT_STRESS_SCALE");
    return s ? std::max(1, std::atoi(s)) : 1;
}

rt::runtime two_workers() {
    return rt::runtime::builder().worker_threads(2).build();
}

// Aborts about one in `one_in` of `hs` at random moments while they run, then joins them all.
// Returns how many finished with a value.
template <class T>
rt::task<int> abort_some_and_join(std::vector<rt::join_handle<T>>& hs, unsigned seed, int one_in) {
    std::minstd_rand rng(seed);
    for (auto& h : hs) {
        for (unsigned i = rng() % 4; i > 0; --i)
            co_await rt::yield_now(); // let the others get going: aborts land mid-flight
        if (rng() % static_cast<unsigned>(one_in) == 0)
            h.abort();
    }
    int ok = 0;
    for (auto& h : hs) {
        auto res = co_await h;
        ok += res.has_value() ? 1 : 0;
    }
    co_return ok;
}

// ---- mutex ----

struct mutex_state {
    rt::mutex<long> m{0};
    std::atomic<long> sections{0}; // critical sections completed
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
};

// One critical section: no suspension between the two counts, so an abort (which only takes
// effect at a suspension) cannot separate them.
void critical(mutex_state* s, long& value) {
    if (s->inside.fetch_add(1) != 0)
        s->overlaps.fetch_add(1);
    ++value;
    s->sections.fetch_add(1);
    s->inside.fetch_sub(1);
}

rt::task<> mutex_user(mutex_state* s, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        switch (rng() % 5) {
        case 0: {
            auto g = co_await s->m.lock();
            if (rng() % 2 == 0)
                co_await rt::yield_now(); // hold it across a suspension
            critical(s, *g);
            break;
        }
        case 1: {
            auto g = co_await rt::timeout(std::chrono::microseconds(rng() % 300), s->m.lock());
            if (g)
                critical(s, **g);
            break;
        }
        case 2: {
            auto r = co_await rt::select(rt::yield_now(), s->m.lock());
            if (r.index() == 1)
                critical(s, *std::get<1>(r));
            break;
        }
        case 3: {
            if (auto g = s->m.try_lock())
                critical(s, **g);
            break;
        }
        default: {
            auto g = co_await s->m.lock();
            critical(s, *g);
            g.unlock();
            co_await rt::yield_now();
        }
        }
    }
}

TEST(sync_locks_stress, mutex_sections_are_exclusive_and_counted_exactly_under_cancellation) {
    auto r = two_workers();
    for (int round = 0; round < 40 * scale(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            mutex_state s;
            std::vector<rt::join_handle<void>> hs;
            for (unsigned i = 0; i < 64; ++i)
                hs.push_back(rt::spawn(mutex_user(&s, seed * 100 + i, 200)));
            co_await abort_some_and_join(hs, seed, 8);
            auto g = s.m.try_lock(); // everyone is gone: the mutex must be free
            EXPECT_TRUE(g.has_value()) << "seed " << seed;
            if (g) {
                EXPECT_EQ(**g, s.sections.load()) << "seed " << seed;
            }
            EXPECT_EQ(s.overlaps.load(), 0) << "seed " << seed;
        }(static_cast<unsigned>(round) + 1));
    }
}

// ---- rw_lock ----

struct rw_state {
    rt::rw_lock<std::pair<long, long>> l;
    std::atomic<long> writes{0};
    std::atomic<int> readers{0};
    std::atomic<int> writers{0};
    std::atomic<int> violations{0};
};

void write_section(rw_state* s, std::pair<long, long>& v) {
    if (s->writers.fetch_add(1) != 0 || s->readers.load() != 0)
        s->violations.fetch_add(1);
    ++v.first;
    ++v.second;
    s->writes.fetch_add(1);
    s->writers.fetch_sub(1);
}

void read_section(rw_state* s, const std::pair<long, long>& v) {
    s->readers.fetch_add(1);
    if (s->writers.load() != 0 || v.first != v.second)
        s->violations.fetch_add(1);
    s->readers.fetch_sub(1);
}

rt::task<> rw_user(rw_state* s, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        bool timed = rng() % 3 == 0;
        auto limit = std::chrono::microseconds(rng() % 300);
        if (rng() % 4 == 0) {
            if (timed) {
                if (auto g = co_await rt::timeout(limit, s->l.write()))
                    write_section(s, **g);
            } else {
                auto g = co_await s->l.write();
                if (rng() % 2 == 0) {
                    auto r = g.downgrade();
                    read_section(s, *r);
                } else {
                    write_section(s, *g);
                }
            }
        } else {
            if (timed) {
                if (auto g = co_await rt::timeout(limit, s->l.read()))
                    read_section(s, **g);
            } else {
                auto g = co_await s->l.read();
                if (rng() % 2 == 0)
                    co_await rt::yield_now(); // a reader lingers
                read_section(s, *g);
            }
        }
        if (rng() % 3 == 0)
            co_await rt::yield_now();
    }
}

TEST(sync_locks_stress, rw_lock_keeps_writers_exclusive_under_cancellation) {
    auto r = two_workers();
    for (int round = 0; round < 40 * scale(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            rw_state s;
            std::vector<rt::join_handle<void>> hs;
            for (unsigned i = 0; i < 48; ++i)
                hs.push_back(rt::spawn(rw_user(&s, seed * 100 + i, 200)));
            co_await abort_some_and_join(hs, seed, 8);
            auto g = s.l.try_write();
            EXPECT_TRUE(g.has_value()) << "seed " << seed;
            if (g) {
                EXPECT_EQ((*g)->first, s.writes.load()) << "seed " << seed;
                EXPECT_EQ((*g)->second, s.writes.load()) << "seed " << seed;
            }
            EXPECT_EQ(s.violations.load(), 0) << "seed " << seed;
        }(static_cast<unsigned>(round) + 1));
    }
}

// ---- semaphore ----

struct sem_state {
    explicit sem_state(std::size_t n) : sem(n), capacity(static_cast<long>(n)) {}
    rt::semaphore sem;
    long capacity;
    std::atomic<long> in_use{0};
    std::atomic<int> over{0};
    std::atomic<int> closed_seen{0}; // acquires that failed because of close()
};

// Counts permits in use while alive; a destructor, so an abort in between keeps the count.
struct in_use_mark {
    in_use_mark(sem_state* st, long k) : s(st), n(k) {
        if (s->in_use.fetch_add(n) + n > s->capacity)
            s->over.fetch_add(1);
    }
    in_use_mark(const in_use_mark&) = delete;
    in_use_mark& operator=(const in_use_mark&) = delete;
    ~in_use_mark() { s->in_use.fetch_sub(n); }
    sem_state* s;
    long n;
};

// Holds `p` for a moment, checking the total in use never exceeds the capacity. The mark is
// declared after `p` is received, so it goes before the permit is returned.
rt::task<> use(sem_state* s, rt::semaphore::permit p, bool linger) {
    in_use_mark mark(s, static_cast<long>(p.num_permits()));
    if (linger)
        co_await rt::yield_now();
}

rt::task<> sem_user(sem_state* s, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        std::size_t n = 1 + rng() % 3;
        switch (rng() % 4) {
        case 0: {
            auto p = co_await s->sem.acquire(n);
            EXPECT_TRUE(p.has_value());
            if (p)
                co_await use(s, std::move(*p), rng() % 2 == 0);
            break;
        }
        case 1: {
            auto p =
                co_await rt::timeout(std::chrono::microseconds(rng() % 300), s->sem.acquire(n));
            if (p && *p)
                co_await use(s, std::move(**p), false);
            break;
        }
        case 2: {
            auto r = co_await rt::select(rt::yield_now(), s->sem.acquire(n));
            if (r.index() == 1 && std::get<1>(r))
                co_await use(s, std::move(*std::get<1>(r)), false);
            break;
        }
        default: {
            if (auto p = s->sem.try_acquire(n))
                co_await use(s, std::move(*p), true);
            co_await rt::yield_now();
        }
        }
    }
}

TEST(sync_locks_stress, semaphore_permits_are_accounted_exactly_under_cancellation) {
    auto r = two_workers();
    for (int round = 0; round < 40 * scale(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            sem_state s(4);
            std::vector<rt::join_handle<void>> hs;
            for (unsigned i = 0; i < 48; ++i)
                hs.push_back(rt::spawn(sem_user(&s, seed * 100 + i, 200)));
            co_await abort_some_and_join(hs, seed, 8);
            EXPECT_EQ(s.sem.available_permits(), 4u) << "seed " << seed;
            EXPECT_EQ(s.in_use.load(), 0) << "seed " << seed;
            EXPECT_EQ(s.over.load(), 0) << "seed " << seed;
        }(static_cast<unsigned>(round) + 1));
    }
}

// Acquires and uses permits until the semaphore is closed.
rt::task<> sem_until_closed(sem_state* s, unsigned seed) {
    std::minstd_rand rng(seed);
    for (;;) {
        auto p = co_await s->sem.acquire(1 + rng() % 3);
        if (!p) {
            s->closed_seen.fetch_add(1);
            co_return;
        }
        co_await use(s, std::move(*p), rng() % 2 == 0);
    }
}

TEST(sync_locks_stress, closing_a_busy_semaphore_ends_every_waiter_and_keeps_the_count) {
    auto r = two_workers();
    for (int round = 0; round < 100 * scale(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            sem_state s(3);
            std::vector<rt::join_handle<void>> hs;
            for (unsigned i = 0; i < 48; ++i)
                hs.push_back(rt::spawn(sem_until_closed(&s, seed * 100 + i)));
            std::minstd_rand rng(seed);
            for (unsigned i = rng() % 200; i > 0; --i)
                co_await rt::yield_now();
            s.sem.close(); // every task's next (or current) acquire fails: all of them end
            for (auto& h : hs)
                EXPECT_TRUE((co_await h).has_value());
            EXPECT_EQ(s.closed_seen.load(), 48) << "seed " << seed;
            EXPECT_EQ(s.sem.available_permits(), 3u) << "seed " << seed;
            EXPECT_EQ(s.in_use.load(), 0) << "seed " << seed;
            EXPECT_EQ(s.over.load(), 0) << "seed " << seed;
        }(static_cast<unsigned>(round) + 1));
    }
}

// ---- barrier ----

struct barrier_state {
    barrier_state(std::size_t n, int generations)
        : b(n), n(static_cast<int>(n)), arrivals(static_cast<std::size_t>(generations)),
          leaders(static_cast<std::size_t>(generations)) {}
    rt::barrier b;
    int n;
    std::vector<std::atomic<int>> arrivals;
    std::vector<std::atomic<int>> leaders;
    std::atomic<int> early{0};
};

rt::task<> barrier_user(barrier_state* s, unsigned seed, int generations) {
    std::minstd_rand rng(seed);
    for (int g = 0; g < generations; ++g) {
        auto gi = static_cast<std::size_t>(g);
        switch (rng() % 4) {
        case 0:
            co_await rt::yield_now();
            break;
        case 1:
            co_await rt::sleep(0ms);
            break;
        default:
            break;
        }
        s->arrivals[gi].fetch_add(1);
        auto r = co_await s->b.wait();
        if (s->arrivals[gi].load() != s->n)
            s->early.fetch_add(1);
        if (r.is_leader())
            s->leaders[gi].fetch_add(1);
    }
}

TEST(sync_locks_stress, barriers_of_many_sizes_have_one_leader_per_generation) {
    auto r = two_workers();
    for (int round = 0; round < 20 * scale(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            constexpr int generations = 400;
            std::vector<std::unique_ptr<barrier_state>> states;
            std::vector<rt::join_handle<void>> hs;
            for (std::size_t n : {2u, 3u, 7u, 16u, 33u}) {
                states.push_back(std::make_unique<barrier_state>(n, generations));
                for (unsigned i = 0; i < n; ++i)
                    hs.push_back(
                        rt::spawn(barrier_user(states.back().get(), seed * 1000 + i, generations)));
            }
            for (auto& h : hs)
                EXPECT_TRUE((co_await h).has_value());
            for (auto& st : states) {
                EXPECT_EQ(st->early.load(), 0) << "n " << st->n;
                int bad = 0;
                for (auto& l : st->leaders)
                    bad += l.load() != 1;
                EXPECT_EQ(bad, 0) << "n " << st->n;
                EXPECT_EQ(st->b.generation(), static_cast<std::uint64_t>(generations));
            }
        }(static_cast<unsigned>(round) + 1));
    }
}

// ---- once_cell ----

struct cell_state {
    rt::once_cell<std::shared_ptr<int>> cell;
    std::atomic<int> successes{0}; // factories that returned a value
    std::atomic<int> wrong{0};
};

rt::task<std::shared_ptr<int>> flaky_factory(cell_state* s, unsigned seed) {
    std::minstd_rand rng(seed);
    if (rng() % 2 == 0)
        co_await rt::yield_now();
    if (rng() % 3 == 0)
        throw std::runtime_error("flaky");
    s->successes.fetch_add(1);
    co_return std::make_shared<int>(static_cast<int>(seed));
}

rt::task<> cell_user(cell_state* s, unsigned seed) {
    std::minstd_rand rng(seed);
    if (rng() % 2 == 0)
        co_await rt::yield_now();
    for (;;) {
        try {
            const std::shared_ptr<int>& v =
                co_await s->cell.get_or_init([s, seed] { return flaky_factory(s, seed); });
            if (!v || s->cell.get() != &v)
                s->wrong.fetch_add(1);
            co_return;
        } catch (const std::runtime_error&) {
            seed += 7919; // this task's factory failed: try again with another seed
        }
    }
}

TEST(sync_locks_stress, once_cell_initializes_once_despite_failing_and_aborted_initializers) {
    auto r = two_workers();
    for (int round = 0; round < 300 * scale(); ++round) {
        r.block_on([](unsigned seed) -> rt::task<> {
            cell_state s;
            std::vector<rt::join_handle<void>> hs;
            for (unsigned i = 0; i < 40; ++i)
                hs.push_back(rt::spawn(cell_user(&s, seed * 100 + i)));
            int finished = co_await abort_some_and_join(hs, seed, 4);
            EXPECT_EQ(s.wrong.load(), 0) << "seed " << seed;
            if (finished > 0) {
                EXPECT_EQ(s.successes.load(), 1) << "seed " << seed;
                EXPECT_NE(s.cell.get(), nullptr) << "seed " << seed;
            } else {
                EXPECT_LE(s.successes.load(), 1) << "seed " << seed;
            }
        }(static_cast<unsigned>(round) + 1));
    }
}

} // namespace
