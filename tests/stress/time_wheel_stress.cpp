// Randomized model check of the timer wheel: long random runs of insert / remove / advance
// against a std::multiset that knows trivially which deadlines are due. After every advance,
// exactly the model's due entries must have fired, each once, none early, in tick order.
//
// Seeds are fixed so a failure reproduces; the failing seed is printed, and RT_WHEEL_SEED=<n>
// replays just that one. RT_STRESS_SCALE=<n> multiplies the number of seeds.
#include "time/wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using rt::detail::timer_entry;
using rt::detail::timer_wheel;

constexpr std::uint64_t span(unsigned level) {
    return std::uint64_t{1} << (6 * level);
}
constexpr std::uint64_t range = span(timer_wheel::levels);

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') {
        return fallback;
    }
    return std::strtoull(text, nullptr, 10);
}

class model_run {
public:
    explicit model_run(std::uint64_t seed)
        : rng_(seed), entries_(pool_size), in_model_(pool_size) {}

    // Runs `ops` random operations, stopping at the first fatal failure.
    void run(std::size_t ops) {
        start_somewhere();
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
        for (op_ = 0; op_ < ops; ++op_) {
            // Alternate filling phases with steady ones so that the wheel is sometimes crowded
            // (many entries per slot, every level busy) and sometimes nearly empty.
            filling_ = (op_ / 2000) % 3 == 0;
            const unsigned dice = static_cast<unsigned>(rng_() % 100);
            if (dice < (filling_ ? 70u : 50u)) {
                insert_one();
            } else if (dice < (filling_ ? 80u : 70u)) {
                remove_one();
            } else {
                advance_once();
            }
            if (::testing::Test::HasFatalFailure()) {
                return;
            }
            if (op_ % 256 == 0) {
                check_links();
                if (::testing::Test::HasFatalFailure()) {
                    return;
                }
            }
        }
        // Drain: everything left must fire by the latest deadline, and nothing after.
        if (!model_.empty()) {
            advance_to(std::prev(model_.end())->first);
        }
        ASSERT_TRUE(wheel_.empty()) << "op " << op_;
        check_links();
    }

private:
    static constexpr std::size_t pool_size = 1024;

    // The wheel's origin is arbitrary: start aligned, unaligned, or just short of a boundary.
    void start_somewhere() {
        std::uint64_t origin = 0;
        switch (rng_() % 4) {
        case 0:
            break;
        case 1:
            origin = rng_() % (range * 8);
            break;
        case 2:
            origin = (1 + rng_() % 4) * range - 1 - rng_() % 3;
            break;
        default:
            origin = (1 + rng_() % 63) * span(1 + static_cast<unsigned>(rng_() % 5)) - 1;
            break;
        }
        advance_to(origin);
    }

    std::uint64_t elapsed() const { return wheel_.elapsed(); }

    // Deadlines bunch on level boundaries and on ticks already in use (so slots hold several
    // entries), and reach several turns past the top level.
    std::uint64_t random_tick() {
        const std::uint64_t now = elapsed();
        switch (rng_() % 12) {
        case 0:
            return now + rng_() % 3; // includes "due already"
        case 1:
            return rng_() % (now + 1); // in the past
        case 2:
            return now + 1 + rng_() % 64;
        case 3:
            return now + 1 + rng_() % span(2);
        case 4:
            return now + 1 + rng_() % span(3);
        case 5:
            return now + 1 + rng_() % span(4);
        case 6:
            return now + 1 + rng_() % span(5);
        case 7:
            return now + 1 + rng_() % range;
        case 8:
            return now + range + rng_() % (4 * range);
        case 9: {
            // On or next to a multiple of a level's span, relative to now or absolute.
            const std::uint64_t unit = span(static_cast<unsigned>(rng_() % 7));
            const std::uint64_t base = rng_() % 2 == 0 ? now : now - now % unit;
            return base + unit * (1 + rng_() % 3) + (rng_() % 3) - 1;
        }
        default:
            if (!recent_ticks_.empty()) {
                return recent_ticks_[rng_() % recent_ticks_.size()];
            }
            return now + 1;
        }
    }

    void insert_one() {
        const std::size_t index = rng_() % pool_size;
        if (entries_[index].linked) {
            return; // as if the sleep were still pending: the driver never re-inserts
        }
        timer_entry& e = entries_[index];
        e.tick = random_tick();
        const bool due = e.tick <= elapsed();
        const bool linked = wheel_.insert(&e);
        ASSERT_EQ(linked, !due) << "op " << op_ << " tick " << e.tick << " elapsed " << elapsed();
        ASSERT_EQ(e.linked, linked) << "op " << op_;
        if (linked) {
            model_.emplace(std::uint64_t{e.tick}, index);
            in_model_[index] = true;
            remember(std::uint64_t{e.tick});
        }
        ASSERT_EQ(wheel_.size(), model_.size()) << "op " << op_;
    }

    void remember(std::uint64_t tick) {
        if (recent_ticks_.size() < 32) {
            recent_ticks_.push_back(tick);
        } else {
            recent_ticks_[rng_() % recent_ticks_.size()] = tick;
        }
    }

    void remove_one() {
        if (model_.empty()) {
            return;
        }
        const auto it = std::next(model_.begin(), static_cast<long>(rng_() % model_.size()));
        const std::size_t index = it->second;
        wheel_.remove(&entries_[index]);
        ASSERT_FALSE(entries_[index].linked) << "op " << op_;
        model_.erase(it);
        in_model_[index] = false;
        ASSERT_EQ(wheel_.size(), model_.size()) << "op " << op_;
    }

    void advance_once() {
        const std::uint64_t now = elapsed();
        const std::optional<std::uint64_t> next = wheel_.next_expiration();
        const std::uint64_t earliest = model_.empty() ? now + 1 : model_.begin()->first;
        std::uint64_t target = now;
        // Mostly short steps, as a driver would take, with the occasional huge jump; only the
        // short ones (the first nine) while filling, so that entries pile up.
        switch (filling_ ? rng_() % 9 : rng_() % 20) {
        case 0:
            target = now - rng_() % (std::min<std::uint64_t>(now, 100) + 1); // backwards
            break;
        case 1:
        case 2:
        case 3:
            target = now + 1;
            break;
        case 4:
        case 5:
        case 6:
            target = now + rng_() % 64;
            break;
        case 7:
        case 8:
            target = now + rng_() % span(3);
            break;
        case 9:
            target = now + rng_() % span(5);
            break;
        case 10:
            target = now + rng_() % (3 * range); // huge
            break;
        case 11:
        case 12:
            target = earliest;
            break;
        case 13:
            target = earliest - 1;
            break;
        case 14:
        case 15:
            target = next.value_or(now + 1);
            break;
        case 16:
            target = next.value_or(now + 1) - 1;
            break;
        default: {
            // Onto, or just short of, the next boundary of some level.
            const std::uint64_t unit = span(1 + static_cast<unsigned>(rng_() % 6));
            target = now - now % unit + unit - rng_() % 2;
            break;
        }
        }
        advance_to(target);
    }

    void advance_to(std::uint64_t target) {
        struct firing {
            std::size_t index;
            std::uint64_t tick;
            bool unlinked;
        };
        const std::uint64_t before = elapsed();
        std::vector<firing> fired;
        wheel_.advance(target, [&](timer_entry* e) {
            fired.push_back(firing{static_cast<std::size_t>(e - entries_.data()), e->tick,
                                   !e->linked && e->prev == nullptr && e->next == nullptr});
        });
        const std::string where = "op " + std::to_string(op_) + " advance " +
                                  std::to_string(before) + " -> " + std::to_string(target);

        std::vector<std::size_t> expected;
        while (!model_.empty() && model_.begin()->first <= target) {
            expected.push_back(model_.begin()->second);
            in_model_[model_.begin()->second] = false;
            model_.erase(model_.begin());
        }
        std::vector<std::size_t> got;
        for (std::size_t i = 0; i < fired.size(); ++i) {
            const firing& f = fired[i];
            ASSERT_LT(f.index, pool_size) << where;
            ASSERT_TRUE(f.unlinked) << where << ": entry " << f.index << " still linked";
            ASSERT_GT(f.tick, before) << where << ": fired late, or twice";
            ASSERT_LE(f.tick, target) << where << ": fired early";
            if (i > 0) {
                ASSERT_LE(fired[i - 1].tick, f.tick) << where << ": out of order";
            }
            got.push_back(f.index);
        }
        std::sort(expected.begin(), expected.end());
        std::sort(got.begin(), got.end());
        if (got != expected) {
            std::vector<std::size_t> missed;
            std::vector<std::size_t> extra;
            std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(),
                                std::back_inserter(missed));
            std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(),
                                std::back_inserter(extra));
            FAIL() << where << ": " << missed.size() << " due entries did not fire (first tick "
                   << (missed.empty() ? 0 : entries_[missed.front()].tick) << "), " << extra.size()
                   << " fired that were not due or fired twice";
        }

        ASSERT_EQ(elapsed(), std::max(before, target)) << where;
        ASSERT_EQ(wheel_.size(), model_.size()) << where;
        ASSERT_EQ(wheel_.empty(), model_.empty()) << where;
        const std::optional<std::uint64_t> next = wheel_.next_expiration();
        if (model_.empty()) {
            ASSERT_EQ(next, std::nullopt) << where;
        } else {
            const std::uint64_t earliest = model_.begin()->first;
            ASSERT_TRUE(next.has_value()) << where;
            ASSERT_GT(*next, elapsed()) << where;
            ASSERT_LE(*next, earliest) << where;
            if ((earliest ^ elapsed()) < 64) {
                ASSERT_EQ(*next, earliest) << where << ": level-0 entry must be exact";
            }
        }
    }

    void check_links() {
        for (std::size_t i = 0; i < pool_size; ++i) {
            ASSERT_EQ(entries_[i].linked, static_cast<bool>(in_model_[i]))
                << "op " << op_ << " entry " << i;
        }
    }

    std::mt19937_64 rng_;
    timer_wheel wheel_;
    std::vector<timer_entry> entries_; // never resized: the wheel holds pointers into it
    std::vector<char> in_model_;
    std::multiset<std::pair<std::uint64_t, std::size_t>> model_; // (tick, entry) of linked ones
    std::vector<std::uint64_t> recent_ticks_;
    std::size_t op_ = 0;
    bool filling_ = false;
};

TEST(TimeWheelStress, RandomOperationsMatchModel) {
    constexpr std::size_t ops_per_seed = 20'000;
    const std::uint64_t replay = env_number("RT_WHEEL_SEED", 0);
    const std::uint64_t seeds =
        replay != 0 ? 1 : 200 * std::max<std::uint64_t>(1, env_number("RT_STRESS_SCALE", 1));
    for (std::uint64_t i = 0; i < seeds; ++i) {
        const std::uint64_t seed = replay != 0 ? replay : 0x5eed0000 + i;
        SCOPED_TRACE("seed " + std::to_string(seed) +
                     " (replay with RT_WHEEL_SEED=" + std::to_string(seed) + ")");
        model_run(seed).run(ops_per_seed);
        if (HasFatalFailure()) {
            std::fprintf(stderr, "time_wheel_stress: failing seed %llu\n",
                         static_cast<unsigned long long>(seed));
            return;
        }
    }
}

} // namespace
