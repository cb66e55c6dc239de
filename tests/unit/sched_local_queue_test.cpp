// Single-threaded behaviour of the worker-local run queue: order, capacity and overflow, batch
// push, stealing, and the 32-bit index wrap. Concurrency lives in
// tests/stress/sched_local_queue_stress.cpp.
#include "sched/local_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace {

struct node {
    std::uint32_t id;
};

// Owns the nodes so that tests can speak in ids; pointers stay valid as the vector never grows
// after construction.
class pool {
public:
    explicit pool(std::uint32_t n) : nodes_(n) {
        for (std::uint32_t i = 0; i < n; ++i)
            nodes_[i].id = i;
    }
    node* operator[](std::uint32_t id) { return &nodes_.at(id); }

private:
    std::vector<node> nodes_;
};

std::vector<std::uint32_t> ids(std::uint32_t first, std::uint32_t last_exclusive) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = first; i < last_exclusive; ++i)
        out.push_back(i);
    return out;
}

template <class Queue>
std::vector<std::uint32_t> drain(Queue& q) {
    std::vector<std::uint32_t> out;
    while (node* n = q.pop())
        out.push_back(n->id);
    return out;
}

// An overflow callback that records every batch it is handed.
struct overflow_log {
    std::vector<std::vector<std::uint32_t>> batches;
    auto sink() {
        return [this](node** tasks, std::uint32_t n) {
            std::vector<std::uint32_t>& batch = batches.emplace_back();
            for (std::uint32_t i = 0; i < n; ++i)
                batch.push_back(tasks[i]->id);
        };
    }
};

auto no_overflow() {
    return [](node**, std::uint32_t n) { ADD_FAILURE() << "unexpected overflow of " << n; };
}

// Indices start just below 2^32 in the "wrapped" variants so that every test also crosses it.
constexpr std::uint32_t near_wrap = std::numeric_limits<std::uint32_t>::max() - 2;

template <std::uint32_t Cap, std::uint32_t First>
struct config {
    static constexpr std::uint32_t capacity = Cap;
    static constexpr std::uint32_t first_index = First;
    using queue = rt::detail::local_queue<node, Cap>;
};

template <class Config>
class LocalQueue : public ::testing::Test {};

using configs = ::testing::Types<config<256, 0>, config<256, near_wrap>, config<8, 0>,
                                 config<8, near_wrap>, config<2, near_wrap>>;
TYPED_TEST_SUITE(LocalQueue, configs);

TYPED_TEST(LocalQueue, PopsInPushOrder) {
    constexpr std::uint32_t cap = TypeParam::capacity;
    typename TypeParam::queue q(TypeParam::first_index);
    pool p(cap);
    EXPECT_FALSE(q.has_tasks());
    EXPECT_EQ(q.pop(), nullptr);
    for (std::uint32_t i = 0; i < cap; ++i)
        q.push_back(p[i], no_overflow());
    EXPECT_TRUE(q.has_tasks());
    EXPECT_EQ(q.len(), cap);
    EXPECT_EQ(drain(q), ids(0, cap));
    EXPECT_FALSE(q.has_tasks());
    EXPECT_EQ(q.len(), 0u);
    EXPECT_EQ(q.pop(), nullptr);
}

TYPED_TEST(LocalQueue, FullQueueOverflowsOlderHalfPlusNewTaskInFifoOrder) {
    constexpr std::uint32_t cap = TypeParam::capacity;
    typename TypeParam::queue q(TypeParam::first_index);
    pool p(2 * cap);
    overflow_log log;
    for (std::uint32_t i = 0; i < cap; ++i)
        q.push_back(p[i], log.sink());
    EXPECT_TRUE(log.batches.empty()) << "a queue of capacity " << cap << " holds " << cap;
    EXPECT_EQ(q.remaining_slots(), 0u);

    q.push_back(p[cap], log.sink());
    ASSERT_EQ(log.batches.size(), 1u);
    std::vector<std::uint32_t> expected = ids(0, cap / 2);
    expected.push_back(cap);
    EXPECT_EQ(log.batches[0], expected);
    EXPECT_EQ(q.len(), cap / 2);
    EXPECT_EQ(q.remaining_slots(), cap / 2);

    // The freed half takes more pushes without overflowing again.
    for (std::uint32_t i = cap + 1; i < cap + 1 + cap / 2; ++i)
        q.push_back(p[i], log.sink());
    EXPECT_EQ(log.batches.size(), 1u);
    std::vector<std::uint32_t> rest = ids(cap / 2, cap);
    for (std::uint32_t i = cap + 1; i < cap + 1 + cap / 2; ++i)
        rest.push_back(i);
    EXPECT_EQ(drain(q), rest);
}

TYPED_TEST(LocalQueue, PushBackBatchFillsRemainingSlotsInOrder) {
    constexpr std::uint32_t cap = TypeParam::capacity;
    typename TypeParam::queue q(TypeParam::first_index);
    pool p(2 * cap);
    EXPECT_EQ(q.remaining_slots(), cap);
    q.push_back(p[0], no_overflow());
    EXPECT_EQ(q.remaining_slots(), cap - 1);

    std::vector<node*> batch;
    for (std::uint32_t i = 1; i < cap; ++i)
        batch.push_back(p[i]);
    q.push_back_batch(batch.data(), static_cast<std::uint32_t>(batch.size()));
    EXPECT_EQ(q.remaining_slots(), 0u);
    EXPECT_EQ(q.len(), cap);

    ASSERT_EQ(q.pop()->id, 0u);
    EXPECT_EQ(q.remaining_slots(), 1u);
    q.push_back_batch(batch.data(), 0);
    EXPECT_EQ(q.remaining_slots(), 1u);
    node* const last = p[cap];
    q.push_back_batch(&last, 1);
    EXPECT_EQ(q.remaining_slots(), 0u);
    EXPECT_EQ(drain(q), ids(1, cap + 1));
    EXPECT_EQ(q.remaining_slots(), cap);
}

TYPED_TEST(LocalQueue, StealTakesHalfRoundedUpAndReturnsTheLastOne) {
    constexpr std::uint32_t cap = TypeParam::capacity;
    pool p(cap);
    // Every fill level, so both parities and the single-task case are covered.
    for (std::uint32_t len = 1; len <= cap; ++len) {
        SCOPED_TRACE(len);
        typename TypeParam::queue src(TypeParam::first_index);
        typename TypeParam::queue dst(TypeParam::first_index + 1);
        for (std::uint32_t i = 0; i < len; ++i)
            src.push_back(p[i], no_overflow());
        auto const stealer = src.get_stealer();
        EXPECT_EQ(stealer.len(), len);
        EXPECT_FALSE(stealer.is_empty());

        std::uint32_t const taken = len - len / 2;
        node* const got = stealer.steal_into(dst);
        ASSERT_NE(got, nullptr);
        EXPECT_EQ(got->id, taken - 1);
        EXPECT_EQ(dst.len(), taken - 1);
        EXPECT_EQ(dst.has_tasks(), taken > 1);
        EXPECT_EQ(src.len(), len - taken);
        EXPECT_EQ(stealer.len(), len - taken);
        EXPECT_EQ(drain(dst), ids(0, taken - 1));
        EXPECT_EQ(drain(src), ids(taken, len));
        EXPECT_TRUE(stealer.is_empty());
    }
}

TYPED_TEST(LocalQueue, StealFromEmptyReturnsNull) {
    typename TypeParam::queue src(TypeParam::first_index);
    typename TypeParam::queue dst(TypeParam::first_index);
    pool p(2);
    auto stealer = src.get_stealer();
    EXPECT_TRUE(stealer.is_empty());
    EXPECT_EQ(stealer.steal_into(dst), nullptr);

    // Emptied by the owner rather than never filled.
    src.push_back(p[0], no_overflow());
    src.push_back(p[1], no_overflow());
    ASSERT_NE(src.pop(), nullptr);
    ASSERT_NE(src.pop(), nullptr);
    EXPECT_EQ(stealer.steal_into(dst), nullptr);
    EXPECT_FALSE(dst.has_tasks());
    // A failed steal leaves the source usable.
    src.push_back(p[0], no_overflow());
    EXPECT_EQ(drain(src), ids(0, 1));
}

TYPED_TEST(LocalQueue, StealRefusedWhenDstMoreThanHalfFull) {
    constexpr std::uint32_t cap = TypeParam::capacity;
    typename TypeParam::queue src(TypeParam::first_index);
    typename TypeParam::queue dst(TypeParam::first_index);
    pool p(2 * cap);
    for (std::uint32_t i = 0; i < cap; ++i)
        src.push_back(p[i], no_overflow());
    for (std::uint32_t i = cap; i < cap + cap / 2 + 1; ++i)
        dst.push_back(p[i], no_overflow());
    auto const stealer = src.get_stealer();

    EXPECT_EQ(stealer.steal_into(dst), nullptr);
    EXPECT_EQ(src.len(), cap) << "a refused steal must not take anything";
    EXPECT_EQ(dst.len(), cap / 2 + 1);

    // Exactly half full is still allowed, and the stolen half then fits exactly.
    ASSERT_EQ(dst.pop()->id, cap);
    node* const got = stealer.steal_into(dst);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->id, cap / 2 - 1);
    EXPECT_EQ(dst.len(), cap - 1);
    std::vector<std::uint32_t> expected = ids(cap + 1, cap + cap / 2 + 1);
    for (std::uint32_t i = 0; i + 1 < cap / 2; ++i)
        expected.push_back(i);
    EXPECT_EQ(drain(dst), expected);
    EXPECT_EQ(drain(src), ids(cap / 2, cap));
}

TYPED_TEST(LocalQueue, StealerIsACopyableHandle) {
    typename TypeParam::queue src(TypeParam::first_index);
    typename TypeParam::queue dst(TypeParam::first_index);
    pool p(4);
    auto const a = src.get_stealer();
    auto b = a;
    b = src.get_stealer();
    src.push_back(p[0], no_overflow());
    src.push_back(p[1], no_overflow());
    EXPECT_EQ(a.len(), 2u);
    EXPECT_EQ(b.len(), 2u);
    ASSERT_NE(b.steal_into(dst), nullptr);
    EXPECT_EQ(a.len(), 1u);
    static_assert(std::is_nothrow_copy_constructible_v<decltype(b)>);
    static_assert(!std::is_copy_constructible_v<typename TypeParam::queue>);
}

// Random single-threaded operations on two queues, checked against std::deque: goes around the
// ring many times (and across 2^32 in the wrapped configurations) in every fill state.
TYPED_TEST(LocalQueue, MatchesAModelAcrossManyLaps) {
    constexpr std::uint32_t cap = TypeParam::capacity;
    constexpr std::uint32_t total = 200'000;
    pool p(total);
    typename TypeParam::queue qs[2] = {typename TypeParam::queue(TypeParam::first_index),
                                       typename TypeParam::queue(TypeParam::first_index - cap)};
    std::deque<std::uint32_t> model[2];
    std::vector<std::uint32_t> overflowed;
    std::vector<std::uint32_t> model_overflowed;
    std::mt19937 rng(12345);
    std::uint32_t next_id = 0;
    std::uint64_t ops = 0;
    auto sink = [&](node** tasks, std::uint32_t n) {
        for (std::uint32_t i = 0; i < n; ++i)
            overflowed.push_back(tasks[i]->id);
    };

    enum op { push, batch, pop, steal };
    // Phases that fill, drain and churn, so the rings spend time at every fill level rather
    // than sitting full; each row is the distribution of 16 draws.
    constexpr op phases[3][16] = {
        {push, push, push, push, push, push, push, push, push, push, batch, batch, pop, pop, steal,
         steal},
        {push, push, pop, pop, pop, pop, pop, pop, pop, pop, pop, pop, steal, steal, steal, steal},
        {push, push, push, push, push, push, batch, pop, pop, pop, pop, pop, pop, steal, steal,
         steal},
    };

    while (next_id < total) {
        ++ops;
        std::uint32_t const w = rng() % 2;
        auto& q = qs[w];
        auto& m = model[w];
        switch (phases[(ops / (8 * cap)) % 3][rng() % 16]) {
        case push: {
            std::uint32_t const id = next_id++;
            if (m.size() == cap) {
                for (std::uint32_t i = 0; i < cap / 2; ++i) {
                    model_overflowed.push_back(m.front());
                    m.pop_front();
                }
                model_overflowed.push_back(id);
            } else {
                m.push_back(id);
            }
            std::size_t const before = overflowed.size();
            q.push_back(p[id], sink);
            ASSERT_EQ(overflowed.size(), model_overflowed.size()) << "op " << ops;
            ASSERT_TRUE(std::equal(overflowed.begin() + static_cast<std::ptrdiff_t>(before),
                                   overflowed.end(),
                                   model_overflowed.begin() + static_cast<std::ptrdiff_t>(before)))
                << "op " << ops;
            break;
        }
        case batch: {
            ASSERT_EQ(q.remaining_slots(), cap - m.size()) << "op " << ops;
            std::uint32_t const n = std::min<std::uint32_t>(
                {static_cast<std::uint32_t>(rng() % 5), q.remaining_slots(), total - next_id});
            std::vector<node*> tasks;
            for (std::uint32_t i = 0; i < n; ++i) {
                tasks.push_back(p[next_id]);
                m.push_back(next_id++);
            }
            q.push_back_batch(tasks.data(), n);
            break;
        }
        case pop: {
            node* const got = q.pop();
            if (m.empty()) {
                ASSERT_EQ(got, nullptr) << "op " << ops;
            } else {
                ASSERT_NE(got, nullptr) << "op " << ops;
                ASSERT_EQ(got->id, m.front()) << "op " << ops;
                m.pop_front();
            }
            break;
        }
        case steal: { // the other queue steals from this one
            auto& dst = qs[1 - w];
            auto& dm = model[1 - w];
            node* const got = q.get_stealer().steal_into(dst);
            std::uint32_t const n = static_cast<std::uint32_t>(m.size() - m.size() / 2);
            if (n == 0 || dm.size() > cap / 2) {
                ASSERT_EQ(got, nullptr) << "op " << ops;
                break;
            }
            for (std::uint32_t i = 0; i + 1 < n; ++i) {
                dm.push_back(m.front());
                m.pop_front();
            }
            ASSERT_NE(got, nullptr) << "op " << ops;
            ASSERT_EQ(got->id, m.front()) << "op " << ops;
            m.pop_front();
            break;
        }
        }
        for (std::uint32_t i = 0; i < 2; ++i) {
            ASSERT_EQ(qs[i].len(), model[i].size()) << "op " << ops;
            ASSERT_EQ(qs[i].has_tasks(), !model[i].empty()) << "op " << ops;
        }
    }
    for (std::uint32_t w = 0; w < 2; ++w) {
        EXPECT_EQ(drain(qs[w]), std::vector<std::uint32_t>(model[w].begin(), model[w].end()));
    }
    // Far more than one lap of each ring, so slots are reused many times over.
    EXPECT_GT(ops, 100u * cap);
}

} // namespace
