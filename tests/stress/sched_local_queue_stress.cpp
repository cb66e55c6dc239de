// One owner pushing and popping while three workers steal from it and from each other, each
// into the queue it owns: every task must come out exactly once. Run it under
// -fsanitize=thread too; the slot protocol is what TSan checks here.
//
// RT_STRESS_SCALE (environment, default 1) multiplies the number of tasks per run.
#include "sched/local_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "rt/detail/atomic.hpp"

namespace {

using rt::detail::atomic;
using rt::detail::memory_order_acquire;
using rt::detail::memory_order_relaxed;
using rt::detail::memory_order_release;

// payload is plain memory the owner writes just before pushing and every taker reads and
// clears: only the queue's release/acquire pairs order those accesses, so TSan reports a race
// here if a slot were published too weakly (the slots themselves are atomics, invisible to it).
struct node {
    std::uint32_t id;
    std::uint32_t payload;
};

constexpr std::uint32_t payload_of(std::uint32_t id) {
    return id ^ 0x5a5a5a5au;
}

std::uint32_t scaled(std::uint32_t n) {
    char const* env = std::getenv("RT_STRESS_SCALE");
    double scale = env ? std::strtod(env, nullptr) : 1.0;
    if (!(scale > 0))
        scale = 1.0;
    return static_cast<std::uint32_t>(n * scale) + 1;
}

constexpr std::uint32_t near_wrap = std::numeric_limits<std::uint32_t>::max() - 1000;
constexpr int stealer_threads = 3;
constexpr std::uint64_t pushes_per_attempt = 4;

struct stats {
    std::uint64_t owner_pops = 0;
    std::uint64_t steals = 0;
    std::uint64_t stolen_from_owner = 0;
    std::uint64_t drained = 0;
    std::uint64_t single_overflows = 0;
    std::uint64_t batch_overflows = 0;
};

// Stands in for running a task: a busy loop of random length, so that the other threads'
// operations land between ours at varying offsets.
void run_task(std::mt19937_64& rng) {
    volatile std::uint32_t sink = 0;
    for (auto n = rng() % 64; n > 0; --n)
        sink = sink + 1;
}

template <std::uint32_t Cap>
void run(std::uint64_t seed, std::uint32_t tasks, std::uint32_t first_index) {
    using queue = rt::detail::local_queue<node, Cap>;
    using stealer = typename queue::stealer;

    std::vector<node> nodes(tasks);
    for (std::uint32_t i = 0; i < tasks; ++i)
        nodes[i].id = i;

    queue owner_queue(first_index);
    std::array<std::unique_ptr<queue>, stealer_threads> worker_queues;
    for (int w = 0; w < stealer_threads; ++w)
        worker_queues[w] = std::make_unique<queue>(first_index + 7919u * (w + 1));
    // victims[0] is the owner's queue, victims[w + 1] worker w's.
    std::vector<stealer> victims{owner_queue.get_stealer()};
    for (auto& q : worker_queues)
        victims.push_back(q->get_stealer());

    atomic<std::uint32_t> bad_payloads{0};
    // Every task leaves the system through here, on the thread that took it.
    auto take = [&](node* t) {
        if (t->payload != payload_of(t->id))
            bad_payloads.fetch_add(1, memory_order_relaxed);
        t->payload = 0;
        return t->id;
    };

    rt::detail::mutex overflow_mutex;
    std::vector<std::vector<std::uint32_t>> overflow_batches;

    // Ids each thread took out, written only by that thread and read after join.
    std::vector<std::uint32_t> owner_got;
    std::array<std::vector<std::uint32_t>, stealer_threads> worker_got;
    std::array<std::uint64_t, stealer_threads> worker_steals{};
    std::array<std::uint64_t, stealer_threads> worker_from_owner{};

    std::array<atomic<std::uint64_t>, stealer_threads> attempts{};
    atomic<int> started{0};
    atomic<bool> done{false};

    auto overflow = [&](node** batch, std::uint32_t n) {
        std::vector<std::uint32_t> ids;
        for (std::uint32_t i = 0; i < n; ++i)
            ids.push_back(take(batch[i]));
        std::lock_guard<rt::detail::mutex> lock(overflow_mutex);
        overflow_batches.push_back(std::move(ids));
    };

    auto stealer_progress = [&] {
        std::uint64_t sum = 0;
        for (auto const& a : attempts)
            sum += a.load(memory_order_relaxed);
        return sum;
    };

    std::thread owner([&] {
        std::mt19937_64 rng(seed);
        // Start together, or a slow thread start lets the owner finish before anyone steals.
        while (started.load(memory_order_acquire) != stealer_threads)
            std::this_thread::yield();
        std::uint32_t next = 0;
        std::vector<node*> batch;
        while (next < tasks) {
            // Pace the owner by the stealers' progress: on a loaded machine the owner could
            // otherwise run through all tasks while the stealers wait for a CPU.
            for (std::uint32_t spins = 1; next > pushes_per_attempt * stealer_progress() + Cap;
                 ++spins) {
                if (spins % 256 == 0)
                    std::this_thread::yield();
            }
            // Phases of different pop rates keep the queue moving between empty and full.
            std::uint32_t const pop_per_256 =
                std::array<std::uint32_t, 4>{0, 64, 200, 256}[(next / 4096) % 4];
            if (rng() % 64 == 0) {
                std::uint32_t const n =
                    std::min<std::uint32_t>({static_cast<std::uint32_t>(rng() % (Cap + 1)),
                                             owner_queue.remaining_slots(), tasks - next});
                batch.clear();
                for (std::uint32_t i = 0; i < n; ++i, ++next) {
                    nodes[next].payload = payload_of(next);
                    batch.push_back(&nodes[next]);
                }
                owner_queue.push_back_batch(batch.data(), n);
            } else {
                nodes[next].payload = payload_of(next);
                owner_queue.push_back(&nodes[next++], overflow);
            }
            if (rng() % 256 < pop_per_256) {
                if (node* t = owner_queue.pop()) {
                    owner_got.push_back(take(t));
                    run_task(rng);
                }
            }
        }
        while (node* t = owner_queue.pop())
            owner_got.push_back(take(t));
        done.store(true, memory_order_release);
    });

    std::vector<std::thread> workers;
    for (int w = 0; w < stealer_threads; ++w) {
        workers.emplace_back([&, w] {
            std::mt19937_64 rng(seed * 31 + static_cast<std::uint64_t>(w) + 1);
            queue& mine = *worker_queues[w];
            std::vector<std::uint32_t>& got = worker_got[w];
            std::uint32_t failures = 0;
            started.fetch_add(1, memory_order_relaxed);
            while (!done.load(memory_order_acquire)) {
                // Mostly the owner; sometimes a peer, so stealing from a queue whose owner is
                // itself filling it by stealing gets exercised too.
                std::size_t victim = 0;
                if (rng() % 4 == 0) {
                    victim = 1 + rng() % (stealer_threads - 1);
                    if (victim == static_cast<std::size_t>(w) + 1)
                        victim = stealer_threads;
                }
                attempts[w].fetch_add(1, memory_order_relaxed);
                node* stolen = nullptr;
                if (rng() % 2 == 0 || !victims[victim].is_empty())
                    stolen = victims[victim].steal_into(mine);
                if (stolen) {
                    got.push_back(take(stolen));
                    ++worker_steals[w];
                    if (victim == 0)
                        ++worker_from_owner[w];
                    run_task(rng);
                    failures = 0;
                } else if (++failures % 64 == 0) {
                    // Spinning stealers would starve the owner when threads outnumber cores.
                    std::this_thread::yield();
                }
                // Leave some behind at times so that dst is sometimes too full to steal into.
                for (auto n = rng() % (Cap / 2 + 2); n > 0; --n) {
                    node* t = mine.pop();
                    if (!t)
                        break;
                    got.push_back(take(t));
                    run_task(rng);
                }
            }
            while (node* t = mine.pop())
                got.push_back(take(t));
        });
    }

    owner.join();
    for (auto& t : workers)
        t.join();

    stats s;
    std::vector<std::uint8_t> seen(tasks);
    auto count = [&](std::uint32_t id) {
        EXPECT_LT(id, tasks);
        if (id < tasks)
            ++seen[id];
    };

    std::uint32_t bad_order = 0;
    s.owner_pops = owner_got.size();
    for (std::size_t i = 0; i < owner_got.size(); ++i) {
        count(owner_got[i]);
        // Everything leaves the owner's queue from the front, so its pops see ids in order.
        if (i > 0 && owner_got[i - 1] >= owner_got[i] && ++bad_order <= 10) {
            ADD_FAILURE() << "owner popped " << owner_got[i] << " after " << owner_got[i - 1];
        }
    }
    for (int w = 0; w < stealer_threads; ++w) {
        for (std::uint32_t id : worker_got[w])
            count(id);
        s.steals += worker_steals[w];
        s.stolen_from_owner += worker_from_owner[w];
        s.drained += worker_got[w].size() - worker_steals[w];
    }
    for (auto const& batch : overflow_batches) {
        if (batch.size() == 1) {
            ++s.single_overflows;
        } else {
            ++s.batch_overflows;
            EXPECT_EQ(batch.size(), Cap / 2 + 1);
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            count(batch[i]);
            if (i > 0 && batch[i - 1] >= batch[i] && ++bad_order <= 10) {
                ADD_FAILURE() << "overflow batch has " << batch[i] << " after " << batch[i - 1];
            }
        }
    }

    EXPECT_EQ(owner_queue.pop(), nullptr);
    for (auto& q : worker_queues)
        EXPECT_EQ(q->pop(), nullptr);

    std::uint32_t bad = 0;
    for (std::uint32_t id = 0; id < tasks; ++id) {
        if (seen[id] != 1 && ++bad <= 10)
            ADD_FAILURE() << "task " << id << " came out " << int{seen[id]} << " times";
    }
    EXPECT_EQ(bad, 0u) << "tasks lost or duplicated";
    EXPECT_EQ(bad_payloads.load(memory_order_relaxed), 0u) << "tasks taken before published";
    // Without this a queue whose steal_into always fails would pass.
    EXPECT_GT(s.stolen_from_owner, 0u);

    std::printf("  seed %llu: %u tasks, %llu owner pops, %llu steals (%llu from owner), "
                "%llu drained, %llu batch + %llu single overflows\n",
                static_cast<unsigned long long>(seed), tasks,
                static_cast<unsigned long long>(s.owner_pops),
                static_cast<unsigned long long>(s.steals),
                static_cast<unsigned long long>(s.stolen_from_owner),
                static_cast<unsigned long long>(s.drained),
                static_cast<unsigned long long>(s.batch_overflows),
                static_cast<unsigned long long>(s.single_overflows));
}

template <std::uint32_t Cap>
void run_seeds(std::uint32_t tasks, std::uint32_t first_index) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        SCOPED_TRACE(seed);
        run<Cap>(seed, scaled(tasks), first_index);
        if (::testing::Test::HasFailure())
            return;
    }
}

TEST(LocalQueueStress, DefaultCapacity) {
    run_seeds<256>(2'000'000, 0);
}

TEST(LocalQueueStress, DefaultCapacityAcrossIndexWrap) {
    run_seeds<256>(2'000'000, near_wrap);
}

// A small ring is full most of the time, so overflow races with steals constantly.
TEST(LocalQueueStress, SmallCapacity) {
    run_seeds<8>(1'000'000, near_wrap);
}

TEST(LocalQueueStress, TwoSlots) {
    run_seeds<2>(500'000, near_wrap);
}

} // namespace
