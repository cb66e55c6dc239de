// rt::mpmc under randomized many-producer, many-consumer workloads on a two-worker runtime:
// random shapes and capacities, receives and sends cancelled by select, timeout and abort, closes
// racing with traffic, and handles cloned and dropped concurrently. Every message is accounted for
// exactly. Scale with RT_STRESS_SCALE (default 1).
#include <rt/chan/mpmc.hpp>
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

using namespace std::chrono_literals;

namespace {

int scale() {
    const char* s = std::getenv("RT_STRESS_SCALE");
    return s ? std::max(1, std::atoi(s)) : 1;
}

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

// Per-message counters shared by the tasks of one round.
struct tally {
    explicit tally(std::size_t n) : sent(n), received(n) {}
    std::vector<std::atomic<int>> sent;
    std::vector<std::atomic<int>> received;
    std::atomic<long> cancelled{0};
    std::atomic<long> accepted{0};

    void expect_exact(bool all_sent) const {
        long mismatches = 0;
        for (std::size_t v = 0; v < received.size(); ++v) {
            int s = all_sent ? 1 : sent[v].load();
            if (received[v].load() != s && ++mismatches <= 5)
                ADD_FAILURE() << "message " << v << ": sent " << s << ", received "
                              << received[v].load();
        }
        EXPECT_EQ(mismatches, 0);
    }
};

constexpr int id_shift = 20; // message = producer << id_shift | sequence

// A spawned task's parameters live as long as its frame, which rt keeps until the join handle is
// gone; senders and receivers are moved into locals so that a task's end drops them.

template <class Sender>
rt::task<> produce(Sender param, int id, int count, unsigned seed) {
    auto tx = std::move(param);
    std::minstd_rand rng(seed);
    for (int i = 0; i < count; ++i) {
        int v = (id << id_shift) | i;
        if constexpr (std::is_same_v<Sender, rt::mpmc::sender<int>>) {
            if (rng() % 4 == 0) {
                // try_send until it fits, yielding while full.
                for (;;) {
                    auto r = tx.try_send(v);
                    if (r)
                        break;
                    EXPECT_TRUE(r.error().is_full());
                    co_await rt::yield_now();
                }
            } else {
                EXPECT_TRUE(co_await tx.send(v));
            }
        } else {
            EXPECT_TRUE(tx.send(v).has_value());
        }
        if (rng() % 4 == 0)
            co_await rt::yield_now();
    }
}

// Receives until closed and drained; checks that each producer's messages come in order.
rt::task<> consume_in_order(rt::mpmc::receiver<int> param, tally* t, int producers, unsigned seed) {
    auto rx = std::move(param);
    std::minstd_rand rng(seed);
    std::vector<int> last(static_cast<std::size_t>(producers), -1);
    for (;;) {
        std::optional<int> v;
        if (rng() % 4 == 0) {
            auto r = rx.try_recv();
            if (!r) {
                if (r.error() == rt::mpmc::try_recv_error::closed)
                    break;
                co_await rt::yield_now();
                continue;
            }
            v = *r;
        } else {
            v = co_await rx.recv();
            if (!v)
                break;
        }
        int p = *v >> id_shift, i = *v & ((1 << id_shift) - 1);
        if (p < 0 || p >= producers) {
            ADD_FAILURE() << "bad message " << *v;
            co_return;
        }
        EXPECT_GT(i, last[static_cast<std::size_t>(p)]) << "producer " << p << " out of order";
        last[static_cast<std::size_t>(p)] = i;
        t->received[static_cast<std::size_t>(*v >> id_shift) * (1u << 12) + i].fetch_add(1);
        if (rng() % 4 == 0)
            co_await rt::yield_now();
    }
}

TEST(chan_mpmc_stress, random_shapes_deliver_every_message_exactly_once) {
    auto r = make_runtime();
    const int rounds = 300 * scale();
    for (int round = 0; round < rounds; ++round) {
        r.block_on([](int seed) -> rt::task<> {
            std::minstd_rand rng(static_cast<unsigned>(seed));
            const int producers = 1 + static_cast<int>(rng() % 6);
            const int consumers = 1 + static_cast<int>(rng() % 6);
            const int per_producer = 200 + static_cast<int>(rng() % 800);
            const bool unbounded = rng() % 4 == 0;
            const std::size_t caps[] = {1, 2, 3, 5, 16};
            const std::size_t cap = caps[rng() % 5];
            tally t(static_cast<std::size_t>(producers) << 12);
            std::vector<rt::join_handle<void>> tasks;
            std::optional<rt::mpmc::receiver<int>> rx;
            if (unbounded) {
                auto [tx, r0] = rt::mpmc::unbounded_channel<int>();
                rx.emplace(std::move(r0));
                for (int p = 0; p < producers; ++p)
                    tasks.push_back(rt::spawn(produce(tx, p, per_producer, rng())));
            } else {
                auto [tx, r0] = rt::mpmc::channel<int>(cap);
                rx.emplace(std::move(r0));
                for (int p = 0; p < producers; ++p)
                    tasks.push_back(rt::spawn(produce(tx, p, per_producer, rng())));
            }
            for (int c = 0; c < consumers; ++c)
                tasks.push_back(rt::spawn(consume_in_order(*rx, &t, producers, rng())));
            rx.reset();
            for (auto& h : tasks)
                EXPECT_TRUE((co_await h).has_value());
            for (std::size_t v = 0; v < t.received.size(); ++v) {
                int expected = (v & ((1u << 12) - 1)) < static_cast<std::size_t>(per_producer);
                if (t.received[v].load() != expected) {
                    ADD_FAILURE() << "seed " << seed << ": message " << v << " received "
                                  << t.received[v].load() << " times";
                    break;
                }
            }
        }(round + 1));
    }
}

// ---- cancellation ----

// Receives with a random kind of cancellable wait until the channel is closed and drained.
rt::task<> consume_cancellably(rt::mpmc::receiver<int> param, tally* t, unsigned seed) {
    auto rx = std::move(param);
    std::minstd_rand rng(seed);
    for (;;) {
        std::optional<int> v;
        switch (rng() % 5) {
        case 0: {
            auto r = co_await rt::select(rx.recv(), rt::yield_now());
            if (r.index() == 1) {
                t->cancelled.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            v = std::get<0>(r);
            break;
        }
        case 1: {
            auto r = co_await rt::select(rt::yield_now(), rx.recv());
            if (r.index() == 0) {
                t->cancelled.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            v = std::get<1>(r);
            break;
        }
        case 2: {
            auto r = co_await rt::timeout(std::chrono::microseconds(rng() % 1500), rx.recv());
            if (!r) {
                t->cancelled.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            v = *r;
            break;
        }
        case 3: {
            auto r = rx.try_recv();
            if (!r) {
                if (r.error() == rt::mpmc::try_recv_error::closed)
                    co_return;
                co_await rt::yield_now();
                continue;
            }
            v = *r;
            break;
        }
        default:
            v = co_await rx.recv();
            break;
        }
        if (!v)
            co_return;
        // Recorded before the next await: an abort takes effect only at an await.
        t->received[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
    }
}

// Sends each of its values with a random kind of cancellable send; records the ones that went.
rt::task<> produce_cancellably(rt::mpmc::sender<int> param, tally* t, int first, int count,
                               unsigned seed) {
    auto tx = std::move(param);
    std::minstd_rand rng(seed);
    for (int v = first; v < first + count; ++v) {
        bool sent = false;
        switch (rng() % 5) {
        case 0: {
            auto r = co_await rt::select(tx.send(v), rt::yield_now());
            sent = r.index() == 0 && std::get<0>(r).has_value();
            break;
        }
        case 1: {
            auto r = co_await rt::select(rt::yield_now(), tx.send(v));
            sent = r.index() == 1 && std::get<1>(r).has_value();
            break;
        }
        case 2: {
            auto r = co_await rt::timeout(std::chrono::microseconds(rng() % 1500), tx.send(v));
            sent = r.has_value() && r->has_value();
            break;
        }
        case 3:
            sent = tx.try_send(v).has_value();
            break;
        default:
            sent = (co_await tx.send(v)).has_value();
            break;
        }
        if (sent)
            t->sent[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
        else
            t->cancelled.fetch_add(1, std::memory_order_relaxed);
    }
}

TEST(chan_mpmc_stress, cancelled_receives_and_sends_lose_and_invent_nothing) {
    auto r = make_runtime();
    const int rounds = 100 * scale();
    long cancelled = 0;
    for (int round = 0; round < rounds; ++round) {
        r.block_on([](int seed, long* cancelled_total) -> rt::task<> {
            std::minstd_rand rng(static_cast<unsigned>(seed) * 7919u);
            constexpr int producers = 6, per_producer = 400, consumers = 3;
            const std::size_t cap = 1 + rng() % 4;
            constexpr int victim_rounds = 40;
            tally t(producers * per_producer + victim_rounds);
            auto [tx, rx] = rt::mpmc::channel<int>(cap);
            std::vector<rt::join_handle<void>> producer_tasks, consumer_tasks;
            for (int p = 0; p < producers; ++p)
                producer_tasks.push_back(
                    rt::spawn(produce_cancellably(tx, &t, p * per_producer, per_producer, rng())));
            for (int c = 0; c < consumers; ++c)
                consumer_tasks.push_back(rt::spawn(consume_cancellably(rx, &t, rng())));
            // Extra producers and consumers that are aborted at random moments.
            std::vector<rt::join_handle<void>> victims;
            for (int k = 0; k < victim_rounds; ++k) {
                if (k % 2 == 0)
                    victims.push_back(rt::spawn(consume_cancellably(rx, &t, rng())));
                else
                    victims.push_back(rt::spawn(
                        produce_cancellably(tx, &t, producers * per_producer + k, 1, rng())));
                for (unsigned y = rng() % 8; y > 0; --y)
                    co_await rt::yield_now();
                victims[rng() % victims.size()].abort();
            }
            for (auto& v : victims) {
                v.abort();
                (void)co_await v;
            }
            victims.clear();
            { auto drop = std::move(tx); }
            { auto drop = std::move(rx); }
            for (auto& h : producer_tasks)
                EXPECT_TRUE((co_await h).has_value());
            for (auto& h : consumer_tasks)
                EXPECT_TRUE((co_await h).has_value());
            t.expect_exact(false);
            *cancelled_total += t.cancelled.load();
        }(round + 1, &cancelled));
    }
    EXPECT_GT(cancelled, 0);
}

TEST(chan_mpmc_stress, operations_cancelled_while_out_of_budget_lose_and_invent_nothing) {
    // A roomy channel keeps sends and receives ready, so tasks run out of cooperative budget
    // mid-loop: the send or receive then keeps its slot or message while it yields, and the
    // other branch of its select (or its timeout) often wins in between.
    auto r = make_runtime();
    const int rounds = 60 * scale();
    for (int round = 0; round < rounds; ++round) {
        r.block_on([](int seed) -> rt::task<> {
            std::minstd_rand rng(static_cast<unsigned>(seed) * 104729u);
            constexpr int producers = 3, per_producer = 3000, consumers = 3;
            tally t(producers * per_producer);
            auto [tx, rx] = rt::mpmc::channel<int>(producers * per_producer);
            std::vector<rt::join_handle<void>> tasks;
            for (int p = 0; p < producers; ++p)
                tasks.push_back(
                    rt::spawn(produce_cancellably(tx, &t, p * per_producer, per_producer, rng())));
            for (int c = 0; c < consumers; ++c)
                tasks.push_back(rt::spawn(consume_cancellably(rx, &t, rng())));
            { auto drop = std::move(tx); }
            { auto drop = std::move(rx); }
            for (auto& h : tasks)
                EXPECT_TRUE((co_await h).has_value());
            t.expect_exact(false);
        }(round + 1));
    }
}

// ---- close and drop racing with traffic ----

rt::task<long> send_until_closed(rt::mpmc::sender<int> param, tally* t, int first, int count) {
    auto tx = std::move(param);
    long accepted = 0;
    for (int v = first; v < first + count; ++v) {
        auto r = co_await tx.send(v);
        if (!r) {
            EXPECT_EQ(r.error().value, v);
            break;
        }
        t->sent[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
        t->accepted.fetch_add(1, std::memory_order_relaxed);
        ++accepted;
        if (v % 3 == 0)
            co_await rt::yield_now();
    }
    co_return accepted;
}

rt::task<long> receive_some(rt::mpmc::receiver<int> param, tally* t, long limit) {
    auto rx = std::move(param);
    long n = 0;
    while (n < limit) {
        auto v = co_await rx.recv();
        if (!v)
            break;
        t->received[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
        ++n;
        if (n % 4 == 0)
            co_await rt::yield_now();
    }
    co_return n;
}

TEST(chan_mpmc_stress, close_racing_with_traffic_keeps_every_accepted_message) {
    auto r = make_runtime();
    const int rounds = 200 * scale();
    for (int round = 0; round < rounds; ++round) {
        r.block_on([](int seed) -> rt::task<> {
            std::minstd_rand rng(static_cast<unsigned>(seed) * 31u);
            constexpr int producers = 4, per_producer = 600, consumers = 3;
            tally t(producers * per_producer);
            auto [tx, rx] = rt::mpmc::channel<int>(1 + rng() % 8);
            std::vector<rt::join_handle<long>> ps, cs;
            for (int p = 0; p < producers; ++p)
                ps.push_back(rt::spawn(send_until_closed(tx, &t, p * per_producer, per_producer)));
            for (int c = 0; c < consumers; ++c)
                cs.push_back(rt::spawn(receive_some(rx, &t, 1L << 30)));
            // Close at a random point of the transfer.
            const long close_at = static_cast<long>(rng() % (producers * per_producer));
            while (t.accepted.load(std::memory_order_relaxed) < close_at)
                co_await rt::yield_now();
            if (rng() % 2)
                tx.close();
            else
                rx.close();
            { auto drop = std::move(tx); }
            { auto drop = std::move(rx); }
            for (auto& h : ps)
                EXPECT_TRUE((co_await h).has_value());
            for (auto& h : cs)
                EXPECT_TRUE((co_await h).has_value());
            t.expect_exact(false);
        }(round + 1));
    }
}

TEST(chan_mpmc_stress, the_last_receiver_leaving_releases_every_waiting_sender) {
    auto r = make_runtime();
    const int rounds = 300 * scale();
    for (int round = 0; round < rounds; ++round) {
        r.block_on([](int seed) -> rt::task<> {
            std::minstd_rand rng(static_cast<unsigned>(seed) * 131u);
            constexpr int producers = 5, per_producer = 1000, consumers = 3;
            const std::size_t cap = 1 + rng() % 4;
            tally t(producers * per_producer);
            auto [tx, rx] = rt::mpmc::channel<int>(cap);
            std::vector<rt::join_handle<long>> ps, cs;
            for (int p = 0; p < producers; ++p)
                ps.push_back(rt::spawn(send_until_closed(tx, &t, p * per_producer, per_producer)));
            { auto drop = std::move(tx); }
            // The consumers stop early; the last one to go closes the channel on the senders.
            for (int c = 0; c < consumers; ++c)
                cs.push_back(rt::spawn(receive_some(rx, &t, static_cast<long>(rng() % 500))));
            { auto drop = std::move(rx); }
            long accepted = 0, received = 0;
            for (auto& h : ps)
                accepted += (co_await h).value();
            for (auto& h : cs)
                received += (co_await h).value();
            // What was accepted and not received was queued when the last receiver left.
            EXPECT_GE(accepted, received);
            EXPECT_LE(accepted - received, static_cast<long>(cap));
            for (std::size_t v = 0; v < t.received.size(); ++v) {
                if (t.received[v].load() > t.sent[v].load()) {
                    ADD_FAILURE() << "message " << v << " received but never sent";
                    break;
                }
            }
        }(round + 1));
    }
}

// ---- handles cloned and dropped concurrently ----

rt::task<> clone_send_drop(rt::mpmc::unbounded_sender<int> param, int first, int count,
                           unsigned seed) {
    std::minstd_rand rng(seed);
    std::vector<std::optional<rt::mpmc::unbounded_sender<int>>> clones;
    clones.emplace_back(std::move(param));
    for (unsigned k = rng() % 6; k > 0; --k)
        clones.emplace_back(*clones[rng() % clones.size()]);
    for (int v = first; v < first + count; ++v) {
        auto& c = clones[rng() % clones.size()];
        if (!c)
            c = *clones[0];
        EXPECT_TRUE(c->send(v).has_value());
        if (rng() % 3 == 0) {
            co_await rt::yield_now();
            std::size_t k = 1 + rng() % clones.size();
            if (k < clones.size())
                clones[k].reset(); // clones[0] stays, so the channel stays open
        }
    }
    std::shuffle(clones.begin(), clones.end(), rng);
    while (!clones.empty()) {
        clones.pop_back();
        co_await rt::yield_now();
    }
}

rt::task<> clone_receive(rt::mpmc::receiver<int> param, tally* t, unsigned seed) {
    std::minstd_rand rng(seed);
    std::vector<rt::mpmc::receiver<int>> clones;
    clones.push_back(std::move(param));
    for (unsigned k = 1 + rng() % 4; k > 0; --k)
        clones.push_back(clones[rng() % clones.size()]);
    for (;;) {
        auto v = co_await clones[rng() % clones.size()].recv();
        if (!v)
            co_return;
        t->received[static_cast<std::size_t>(*v)].fetch_add(1, std::memory_order_relaxed);
        if (rng() % 5 == 0) {
            auto copy = clones[rng() % clones.size()];
            clones[rng() % clones.size()] = std::move(copy);
        }
    }
}

TEST(chan_mpmc_stress, handles_cloned_and_dropped_concurrently_close_exactly_once) {
    auto r = make_runtime();
    const int rounds = 300 * scale();
    for (int round = 0; round < rounds; ++round) {
        r.block_on([](int seed) -> rt::task<> {
            std::minstd_rand rng(static_cast<unsigned>(seed) * 17u);
            constexpr int producers = 8, per_producer = 500, consumers = 4;
            tally t(producers * per_producer);
            std::vector<rt::join_handle<void>> tasks;
            {
                auto [tx, rx] = rt::mpmc::unbounded_channel<int>();
                for (int c = 0; c < consumers; ++c)
                    tasks.push_back(rt::spawn(clone_receive(rx, &t, rng())));
                for (int p = 0; p < producers; ++p)
                    tasks.push_back(
                        rt::spawn(clone_send_drop(tx, p * per_producer, per_producer, rng())));
            }
            for (auto& h : tasks)
                EXPECT_TRUE((co_await h).has_value());
            t.expect_exact(true);
        }(round + 1));
    }
}

} // namespace
