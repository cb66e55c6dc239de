// Wakes racing with the polls that consume them: many tasks whose awaits sit inside select and
// timeout branches, woken by notify_one from other workers, by timers and by their own yields,
// while some are aborted. A waker that touched a strand after marking it (the strand may already
// be resumed and freed by then) shows up here under ThreadSanitizer or AddressSanitizer, and a
// stale mark as an await that resumes before its event (the counts below stop adding up).
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

int scale() {
    const char* s = std::getenv("RT_STRESS_SCALE");
    return s ? std::max(1, std::atoi(s)) : 1;
}

struct counts {
    std::atomic<long> iterations{0};
    std::atomic<long> notified{0};
};

rt::task<> user(rt::notify* n, counts* c, unsigned seed, int iters) {
    std::minstd_rand rng(seed);
    for (int i = 0; i < iters; ++i) {
        auto limit = std::chrono::microseconds(rng() % 300);
        switch (rng() % 4) {
        case 0: {
            auto r = co_await rt::timeout(limit, n->notified());
            if (r.has_value())
                c->notified.fetch_add(1, std::memory_order_relaxed);
            break;
        }
        case 1: {
            auto r = co_await rt::timeout(limit, rt::yield_now());
            (void)r; // either may win: a zero limit can expire before the yield comes back
            break;
        }
        case 2: {
            auto r = co_await rt::select(rt::yield_now(), rt::sleep(limit));
            EXPECT_LT(r.index(), 2u);
            break;
        }
        default:
            n->notify_one();
            co_await rt::yield_now();
        }
        c->iterations.fetch_add(1, std::memory_order_relaxed);
    }
}

rt::task<long> round_body(unsigned seed, counts* c) {
    rt::notify n;
    constexpr int tasks = 48;
    constexpr int iters = 200;
    std::vector<rt::join_handle<void>> hs;
    for (unsigned i = 0; i < tasks; ++i)
        hs.push_back(rt::spawn(user(&n, c, seed * 100 + i, iters)));
    std::minstd_rand rng(seed);
    std::vector<bool> aborted(tasks, false);
    for (std::size_t k = 0; k < hs.size(); ++k) {
        for (unsigned i = rng() % 4; i > 0; --i)
            co_await rt::yield_now();
        if (rng() % 8 == 0) {
            hs[k].abort();
            aborted[k] = true;
        }
    }
    long finished = 0;
    for (std::size_t k = 0; k < hs.size(); ++k) {
        auto r = co_await hs[k];
        if (r.has_value())
            ++finished;
        else
            EXPECT_TRUE(aborted[k] && r.error().is_cancelled());
    }
    co_return finished;
}

TEST(rt_wake_race, marks_never_outlive_the_awaits_they_resume) {
    auto r = rt::runtime::builder().worker_threads(2).build();
    const int rounds = 60 * scale();
    for (int round = 0; round < rounds; ++round) {
        counts c;
        long finished = r.block_on(round_body(static_cast<unsigned>(round) + 1, &c));
        // Every task that was not aborted ran all of its iterations, and none ran more.
        EXPECT_GE(c.iterations.load(), finished * 200);
        EXPECT_LE(c.iterations.load(), 48L * 200);
    }
}

} // namespace
