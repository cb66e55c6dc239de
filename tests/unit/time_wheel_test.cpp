// Unit tests of the timer driver's hierarchical wheel. The wheel is pure data: no clock, no
// threads, time is whatever advance() is told.
#include "time/wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using rt::detail::timer_entry;
using rt::detail::timer_wheel;

constexpr std::uint64_t span(unsigned level) {
    return std::uint64_t{1} << (6 * level);
}
constexpr std::uint64_t range = span(timer_wheel::levels); // 64^6 ticks

// Advances and returns what fired, checking on the way what every on_fire may rely on.
std::vector<timer_entry*> advance(timer_wheel& wheel, std::uint64_t now) {
    std::vector<timer_entry*> fired;
    wheel.advance(now, [&](timer_entry* e) {
        EXPECT_FALSE(e->linked);
        EXPECT_EQ(e->prev, nullptr);
        EXPECT_EQ(e->next, nullptr);
        fired.push_back(e);
    });
    return fired;
}

// Distances (from the insertion time) that sit on or next to every level boundary, including
// past the wheel's range.
const std::vector<std::uint64_t> boundary_distances = [] {
    std::vector<std::uint64_t> d = {1, 2, 63, 64, 65, 127, 128, 4095, 4096, 4097};
    for (unsigned level = 3; level <= timer_wheel::levels; ++level) {
        d.insert(d.end(), {span(level) - 1, span(level), span(level) + 1, span(level) + 7});
    }
    d.insert(d.end(), {range + 12'345, 3 * range + 77});
    return d;
}();

// Origins from which to insert: aligned, unaligned, and just before a boundary of each level,
// so that a short distance can still cross into a higher level's span.
const std::vector<std::uint64_t> origins = {
    0, 1, 1000, span(2) - 3, span(3) - 1, span(5) - 2, range - 1, 5 * range + span(4) - 9};

TEST(TimeWheel, InsertAtOrBeforeElapsedIsRefused) {
    timer_wheel wheel;
    timer_entry e;
    e.tick = 0;
    EXPECT_FALSE(wheel.insert(&e));
    EXPECT_FALSE(e.linked);
    EXPECT_TRUE(wheel.empty());

    EXPECT_TRUE(advance(wheel, 100).empty());
    EXPECT_EQ(wheel.elapsed(), 100u);
    for (std::uint64_t tick : {0u, 50u, 99u, 100u}) {
        e.tick = tick;
        EXPECT_FALSE(wheel.insert(&e)) << tick;
        EXPECT_FALSE(e.linked);
    }
    EXPECT_EQ(wheel.size(), 0u);
    EXPECT_EQ(wheel.next_expiration(), std::nullopt);

    e.tick = 101;
    EXPECT_TRUE(wheel.insert(&e));
    EXPECT_TRUE(e.linked);
    EXPECT_EQ(wheel.size(), 1u);
}

TEST(TimeWheel, AdvanceBackwardsIsIgnored) {
    timer_wheel wheel;
    EXPECT_TRUE(advance(wheel, 500).empty());
    timer_entry e;
    e.tick = 600;
    ASSERT_TRUE(wheel.insert(&e));
    EXPECT_TRUE(advance(wheel, 10).empty());
    EXPECT_EQ(wheel.elapsed(), 500u);
    EXPECT_TRUE(advance(wheel, 500).empty());
    EXPECT_EQ(wheel.elapsed(), 500u);
    EXPECT_EQ(advance(wheel, 600), std::vector<timer_entry*>{&e});
}

TEST(TimeWheel, FiresAtItsTickNotOneEarlier) {
    timer_wheel wheel;
    timer_entry e;
    e.tick = 10;
    ASSERT_TRUE(wheel.insert(&e));
    EXPECT_TRUE(advance(wheel, 9).empty());
    EXPECT_TRUE(e.linked);
    EXPECT_EQ(wheel.size(), 1u);
    EXPECT_EQ(advance(wheel, 10), std::vector<timer_entry*>{&e});
    EXPECT_FALSE(e.linked);
    EXPECT_EQ(wheel.elapsed(), 10u);
    EXPECT_TRUE(wheel.empty());
    EXPECT_TRUE(advance(wheel, 1000).empty());
}

TEST(TimeWheel, FiresAtEveryDistanceOneTickAtATime) {
    // Stepping one tick at a time walks every cascade; beyond 64^3 that is too many steps, so
    // the far distances are covered by the approach test below.
    for (const std::uint64_t origin : origins) {
        SCOPED_TRACE("origin " + std::to_string(origin));
        timer_wheel wheel;
        ASSERT_TRUE(advance(wheel, origin).empty());
        std::vector<timer_entry> entries;
        for (const std::uint64_t d : boundary_distances) {
            if (d <= span(3) + 7) {
                entries.push_back(timer_entry{});
                entries.back().tick = origin + d;
            }
        }
        for (timer_entry& e : entries) {
            ASSERT_TRUE(wheel.insert(&e));
        }
        std::size_t fired = 0;
        for (std::uint64_t now = origin + 1; now <= origin + span(3) + 8; ++now) {
            for (timer_entry* e : advance(wheel, now)) {
                ASSERT_EQ(e->tick, now);
                ++fired;
            }
        }
        EXPECT_EQ(fired, entries.size());
        EXPECT_TRUE(wheel.empty());
    }
}

// The next span's level-1 slot is moved into level 0 a share per advance (the staged cascade):
// entries staged early, inserted while staging runs, removed after staging, and due at the
// span's very first tick all fire exactly at their tick, tick by tick and across jumps.
TEST(TimeWheel, StagedNextSpanFiresEveryEntryAtItsTick) {
    for (const std::uint64_t step : {std::uint64_t{1}, std::uint64_t{5}, std::uint64_t{63}}) {
        SCOPED_TRACE("step " + std::to_string(step));
        timer_wheel wheel;
        const std::uint64_t origin = 3 * span(1) + 2; // inside a span, not at its start
        ASSERT_TRUE(advance(wheel, origin).empty());
        const std::uint64_t next = 4 * span(1); // the next span's first tick
        // Two spans ahead as well, so a later level-1 slot stays put meanwhile.
        std::vector<timer_entry> entries(5 * span(1)); // 192 ahead, 61 now, 4 late
        std::size_t i = 0;
        for (std::uint64_t t = next; t < next + 2 * span(1); ++t) {
            entries[i++].tick = t;
            if (t < next + span(1))
                entries[i++].tick = t; // two per tick in the next span
        }
        const std::size_t first_batch = i;
        for (std::size_t k = 0; k < first_batch; ++k)
            ASSERT_TRUE(wheel.insert(&entries[k]));
        // Entries of the current span keep the wheel advancing tick by tick meanwhile.
        for (std::uint64_t t = origin + 1; t < next; ++t) {
            entries[i].tick = t;
            ASSERT_TRUE(wheel.insert(&entries[i++]));
        }
        std::vector<bool> removed(entries.size(), false);
        std::size_t expected = i;
        std::size_t fired = 0;
        bool inserted_late = false;
        for (std::uint64_t now = origin + step;; now += step) {
            if (!inserted_late && now >= origin + 30) {
                // Half way through staging: more for the next span, and some staged ones go.
                for (std::uint64_t t : {next, next + 1, next + 33, next + 63}) {
                    entries[i].tick = t;
                    ASSERT_TRUE(wheel.insert(&entries[i++]));
                    ++expected;
                }
                for (std::size_t k = 0; k < first_batch; k += 7) {
                    wheel.remove(&entries[k]);
                    removed[k] = true;
                    --expected;
                }
                inserted_late = true;
            }
            for (timer_entry* e : advance(wheel, now)) {
                const auto k = static_cast<std::size_t>(e - entries.data());
                EXPECT_FALSE(removed[k]);
                EXPECT_LE(e->tick, now);
                EXPECT_GT(e->tick, now - step);
                ++fired;
            }
            if (now >= next + 2 * span(1))
                break;
        }
        EXPECT_EQ(fired, expected);
        EXPECT_TRUE(wheel.empty());
    }
}

TEST(TimeWheel, FarDistancesFireExactlyWhenApproachedTickByTick) {
    // Jump to just short of the deadline (cascading the entry all the way down), then step.
    for (const std::uint64_t origin : origins) {
        for (const std::uint64_t d : boundary_distances) {
            SCOPED_TRACE("origin " + std::to_string(origin) + " distance " + std::to_string(d));
            timer_wheel wheel;
            ASSERT_TRUE(advance(wheel, origin).empty());
            timer_entry e;
            e.tick = origin + d;
            ASSERT_TRUE(wheel.insert(&e));
            const std::uint64_t approach = e.tick - std::min<std::uint64_t>(d, 130);
            ASSERT_TRUE(advance(wheel, approach).empty());
            for (std::uint64_t now = approach + 1; now < e.tick; ++now) {
                ASSERT_TRUE(advance(wheel, now).empty()) << now;
            }
            ASSERT_EQ(advance(wheel, e.tick), std::vector<timer_entry*>{&e});
            EXPECT_TRUE(wheel.empty());
        }
    }
}

TEST(TimeWheel, FiresAtEveryDistanceInBigJumps) {
    // Each entry must fire in the advance() whose window (previous now, now] holds its tick.
    const std::vector<std::uint64_t> jumps = {
        7, 1'000, 65'537, span(4) + 3, 999'999'937, span(5) * 7 + 11, range / 3, range + 1};
    for (const std::uint64_t origin : origins) {
        for (const std::uint64_t jump : jumps) {
            SCOPED_TRACE("origin " + std::to_string(origin) + " jump " + std::to_string(jump));
            timer_wheel wheel;
            ASSERT_TRUE(advance(wheel, origin).empty());
            std::vector<timer_entry> entries(boundary_distances.size());
            for (std::size_t i = 0; i < entries.size(); ++i) {
                entries[i].tick = origin + boundary_distances[i];
                ASSERT_TRUE(wheel.insert(&entries[i]));
            }
            std::size_t fired = 0;
            std::uint64_t before = origin;
            std::uint64_t last_tick = 0;
            while (!wheel.empty()) {
                // Small jumps would take forever to reach the far entries; skip ahead to just
                // before the earliest remaining one, which must fire nothing.
                const auto next = wheel.next_expiration();
                ASSERT_TRUE(next.has_value());
                std::uint64_t earliest = std::numeric_limits<std::uint64_t>::max();
                for (const timer_entry& e : entries) {
                    if (e.linked) {
                        earliest = std::min(earliest, e.tick);
                    }
                }
                ASSERT_GT(earliest, before) << "missed: still linked after its tick";
                if (earliest - before > 4 * jump) {
                    ASSERT_TRUE(advance(wheel, earliest - 1).empty());
                    before = earliest - 1;
                }
                const std::uint64_t now = before + jump;
                for (timer_entry* e : advance(wheel, now)) {
                    ASSERT_GT(e->tick, before);
                    ASSERT_LE(e->tick, now);
                    ASSERT_GE(e->tick, last_tick);
                    last_tick = e->tick;
                    ++fired;
                }
                EXPECT_EQ(wheel.elapsed(), now);
                before = now;
            }
            EXPECT_EQ(fired, entries.size());
        }
    }
}

TEST(TimeWheel, DriverLoopFollowingNextExpiration) {
    // What the driver does: sleep until next_expiration(), advance to it. Never fires early,
    // never skips anything, and the step just before the reported tick fires nothing.
    for (const std::uint64_t origin : origins) {
        SCOPED_TRACE("origin " + std::to_string(origin));
        timer_wheel wheel;
        ASSERT_TRUE(advance(wheel, origin).empty());
        std::vector<timer_entry> entries(boundary_distances.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
            entries[i].tick = origin + boundary_distances[i];
            ASSERT_TRUE(wheel.insert(&entries[i]));
        }
        std::size_t fired = 0;
        std::size_t steps = 0;
        while (const auto next = wheel.next_expiration()) {
            // Each entry needs at most one step per level, plus one per turn of the top level.
            ASSERT_LT(++steps, 1000u)
                << "next_expiration() keeps reporting slots that fire nothing";
            ASSERT_GT(*next, wheel.elapsed());
            ASSERT_TRUE(advance(wheel, *next - 1).empty());
            for (timer_entry* e : advance(wheel, *next)) {
                ASSERT_EQ(e->tick, *next);
                ++fired;
            }
        }
        EXPECT_EQ(fired, entries.size());
        EXPECT_TRUE(wheel.empty());
    }
}

TEST(TimeWheel, BeyondRangeSharingTheCurrentTopSlot) {
    // A deadline one full turn of the top level away lands in elapsed's own top-level slot. It
    // must be seen as the furthest slot, not the nearest: a nearer top-level entry must still
    // fire on time, and the far one neither early nor never.
    timer_wheel wheel;
    timer_entry near_entry;
    timer_entry far_entry;
    near_entry.tick = span(5) + 5; // top level, slot 1
    far_entry.tick = range + 3;    // top level, slot 0: elapsed's slot, one turn away
    ASSERT_TRUE(wheel.insert(&far_entry));
    ASSERT_TRUE(wheel.insert(&near_entry));
    const auto next = wheel.next_expiration();
    ASSERT_TRUE(next.has_value());
    EXPECT_LE(*next, near_entry.tick);
    EXPECT_TRUE(advance(wheel, near_entry.tick - 1).empty());
    EXPECT_EQ(advance(wheel, near_entry.tick), std::vector<timer_entry*>{&near_entry});
    EXPECT_TRUE(advance(wheel, far_entry.tick - 1).empty());
    EXPECT_EQ(advance(wheel, far_entry.tick), std::vector<timer_entry*>{&far_entry});
}

TEST(TimeWheel, BeyondRangeManyTurnsAway) {
    timer_wheel wheel;
    ASSERT_TRUE(advance(wheel, 12'345).empty());
    timer_entry e;
    e.tick = 12'345 + 7 * range + span(5) * 3 + 1;
    ASSERT_TRUE(wheel.insert(&e));
    for (std::uint64_t turn = 1; turn < 7; ++turn) {
        ASSERT_TRUE(advance(wheel, 12'345 + turn * range).empty()) << turn;
        ASSERT_TRUE(e.linked);
    }
    ASSERT_TRUE(advance(wheel, e.tick - 1).empty());
    EXPECT_EQ(advance(wheel, e.tick), std::vector<timer_entry*>{&e});
}

TEST(TimeWheel, CrossingTheTopBoundaryByOneTick) {
    // tick and elapsed differ above the top digit although they are one tick apart.
    timer_wheel wheel;
    ASSERT_TRUE(advance(wheel, range - 1).empty());
    timer_entry e;
    e.tick = range;
    ASSERT_TRUE(wheel.insert(&e));
    EXPECT_EQ(wheel.next_expiration(), std::optional<std::uint64_t>(range));
    EXPECT_EQ(advance(wheel, range), std::vector<timer_entry*>{&e});
}

TEST(TimeWheel, RemoveUnlinksAndNeverFires) {
    timer_wheel wheel;
    // Several entries per slot so that head, middle and tail of a slot's list are all removed,
    // at several levels, plus one removed only after it has been cascaded down.
    std::vector<timer_entry> entries(24);
    const std::uint64_t ticks[] = {5,    5,    5,    100,         100,         100,
                                   5000, 5000, 5000, span(4) + 9, span(4) + 9, range * 2};
    for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i].tick = ticks[i % std::size(ticks)];
        ASSERT_TRUE(wheel.insert(&entries[i]));
    }
    std::vector<bool> removed(entries.size(), false);
    for (std::size_t i : {0u, 13u, 1u, 16u, 4u, 20u, 11u, 9u}) {
        wheel.remove(&entries[i]);
        EXPECT_FALSE(entries[i].linked);
        removed[i] = true;
    }
    EXPECT_EQ(wheel.size(), entries.size() - 8);

    std::size_t due_by_4500 = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        due_by_4500 += !removed[i] && entries[i].tick <= 4500 ? 1 : 0;
    }
    ASSERT_EQ(advance(wheel, 4500).size(), due_by_4500);
    timer_entry& cascaded = entries[6]; // 5000: the slot at 4096 has moved it out of level 2
    ASSERT_EQ(cascaded.tick, 5000u);
    ASSERT_TRUE(cascaded.linked);
    wheel.remove(&cascaded);
    removed[6] = true;

    std::vector<timer_entry*> fired = advance(wheel, range * 3);
    std::vector<timer_entry*> fired_again = advance(wheel, range * 4);
    EXPECT_TRUE(fired_again.empty());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const bool in_fired = std::find(fired.begin(), fired.end(), &entries[i]) != fired.end();
        if (removed[i]) {
            EXPECT_FALSE(in_fired) << i;
        } else if (entries[i].tick > 4500) {
            EXPECT_TRUE(in_fired) << i;
        }
        EXPECT_FALSE(entries[i].linked) << i;
    }
    EXPECT_TRUE(wheel.empty());
    EXPECT_EQ(wheel.next_expiration(), std::nullopt);
}

TEST(TimeWheel, RemoveLastEntryOfASlotClearsIt) {
    // If the occupied bit outlived its list, next_expiration() would report a stale slot.
    timer_wheel wheel;
    timer_entry a;
    timer_entry b;
    a.tick = 10;
    b.tick = 50;
    ASSERT_TRUE(wheel.insert(&a));
    ASSERT_TRUE(wheel.insert(&b));
    EXPECT_EQ(wheel.next_expiration(), std::optional<std::uint64_t>(10));
    wheel.remove(&a);
    EXPECT_EQ(wheel.next_expiration(), std::optional<std::uint64_t>(50));
    wheel.remove(&b);
    EXPECT_EQ(wheel.next_expiration(), std::nullopt);
    // Re-inserting after removal works and the entry fires.
    ASSERT_TRUE(wheel.insert(&a));
    EXPECT_EQ(advance(wheel, 10), std::vector<timer_entry*>{&a});
}

TEST(TimeWheel, NextExpiration) {
    timer_wheel wheel;
    EXPECT_EQ(wheel.next_expiration(), std::nullopt);

    timer_entry far_entry;
    far_entry.tick = 100; // level 1 from 0: reported as the start of its slot
    ASSERT_TRUE(wheel.insert(&far_entry));
    const auto far_next = wheel.next_expiration();
    ASSERT_TRUE(far_next.has_value());
    EXPECT_GT(*far_next, 0u);
    EXPECT_LE(*far_next, 100u);

    timer_entry near_entry;
    near_entry.tick = 40; // level 0: exact
    ASSERT_TRUE(wheel.insert(&near_entry));
    EXPECT_EQ(wheel.next_expiration(), std::optional<std::uint64_t>(40));

    EXPECT_EQ(advance(wheel, 40), std::vector<timer_entry*>{&near_entry});
    EXPECT_EQ(wheel.next_expiration(), far_next);
    EXPECT_TRUE(advance(wheel, 64).empty()); // cascades 100 into level 0
    EXPECT_EQ(wheel.next_expiration(), std::optional<std::uint64_t>(100));
    EXPECT_EQ(advance(wheel, 100), std::vector<timer_entry*>{&far_entry});

    // Randomised: a lower bound on the earliest tick, after elapsed, exact in level 0.
    std::mt19937_64 rng(7);
    std::vector<timer_entry> entries(200);
    for (int round = 0; round < 200; ++round) {
        for (timer_entry& e : entries) {
            if (e.linked) {
                wheel.remove(&e);
            }
        }
        ASSERT_TRUE(advance(wheel, wheel.elapsed() + rng() % span(4)).empty());
        const std::uint64_t base = wheel.elapsed();
        const std::size_t count = 1 + rng() % 5;
        std::uint64_t earliest = std::numeric_limits<std::uint64_t>::max();
        for (std::size_t i = 0; i < count; ++i) {
            const unsigned digits = 1 + static_cast<unsigned>(rng() % 7);
            entries[i].tick = base + 1 + rng() % span(digits);
            ASSERT_TRUE(wheel.insert(&entries[i]));
            earliest = std::min(earliest, entries[i].tick);
        }
        const auto next = wheel.next_expiration();
        ASSERT_TRUE(next.has_value());
        ASSERT_GT(*next, base);
        ASSERT_LE(*next, earliest);
        if ((earliest ^ base) < 64) {
            ASSERT_EQ(*next, earliest);
        }
    }
}

TEST(TimeWheel, SizeAndEmpty) {
    timer_wheel wheel;
    EXPECT_TRUE(wheel.empty());
    EXPECT_EQ(wheel.size(), 0u);
    std::vector<timer_entry> entries(10);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        entries[i].tick = 1 + i * 1000;
        ASSERT_TRUE(wheel.insert(&entries[i]));
        EXPECT_EQ(wheel.size(), i + 1);
        EXPECT_FALSE(wheel.empty());
    }
    timer_entry refused;
    refused.tick = 0;
    EXPECT_FALSE(wheel.insert(&refused));
    EXPECT_EQ(wheel.size(), 10u);
    wheel.remove(&entries[3]);
    EXPECT_EQ(wheel.size(), 9u);
    EXPECT_EQ(advance(wheel, 2001).size(), 3u); // ticks 1, 1001, 2001
    EXPECT_EQ(wheel.size(), 6u);
    EXPECT_EQ(advance(wheel, 1'000'000).size(), 6u);
    EXPECT_EQ(wheel.size(), 0u);
    EXPECT_TRUE(wheel.empty());
}

TEST(TimeWheel, FiringOrderIsNonDecreasingAcrossOneAdvance) {
    std::mt19937_64 rng(42);
    timer_wheel wheel;
    ASSERT_TRUE(advance(wheel, 777).empty());
    std::vector<timer_entry> entries(3000);
    for (timer_entry& e : entries) {
        const unsigned digits = 1 + static_cast<unsigned>(rng() % 6);
        e.tick = 778 + rng() % span(digits);
        ASSERT_TRUE(wheel.insert(&e));
    }
    const std::vector<timer_entry*> fired = advance(wheel, 778 + range);
    ASSERT_EQ(fired.size(), entries.size());
    for (std::size_t i = 1; i < fired.size(); ++i) {
        ASSERT_LE(fired[i - 1]->tick, fired[i]->tick) << i;
    }
}

TEST(TimeWheel, OnFireMayDestroyItsEntry) {
    // The driver's on_fire resumes the sleeping coroutine, which may free the entry; the wheel
    // must not read it afterwards (caught by ASan).
    timer_wheel wheel;
    std::vector<timer_entry*> owned;
    for (int i = 0; i < 50; ++i) {
        owned.push_back(new timer_entry{});
        owned.back()->tick = 1 + static_cast<std::uint64_t>(i % 3) * 100;
        ASSERT_TRUE(wheel.insert(owned.back()));
    }
    std::size_t fired = 0;
    wheel.advance(1000, [&](timer_entry* e) {
        delete e;
        ++fired;
    });
    EXPECT_EQ(fired, 50u);
    EXPECT_TRUE(wheel.empty());
}

TEST(TimeWheel, ThrowingOnFireLosesNothing) {
    timer_wheel wheel;
    std::vector<timer_entry> entries(5);
    for (timer_entry& e : entries) {
        e.tick = 70; // one slot, cascaded from level 1 at 64
        ASSERT_TRUE(wheel.insert(&e));
    }
    timer_entry later;
    later.tick = 90;
    ASSERT_TRUE(wheel.insert(&later));

    std::vector<timer_entry*> fired;
    EXPECT_THROW(wheel.advance(100,
                               [&](timer_entry* e) {
                                   fired.push_back(e);
                                   if (fired.size() == 2) {
                                       throw 1;
                                   }
                               }),
                 int);
    EXPECT_EQ(fired.size(), 2u);
    EXPECT_EQ(wheel.elapsed(), 70u); // stopped in the middle of the slot at 70
    EXPECT_EQ(wheel.size(), 4u);
    EXPECT_EQ(wheel.next_expiration(), std::optional<std::uint64_t>(wheel.elapsed()));
    // Still-pending entries stay removable.
    timer_entry* still_pending = nullptr;
    for (timer_entry& e : entries) {
        if (e.linked) {
            still_pending = &e;
        }
    }
    ASSERT_NE(still_pending, nullptr);
    wheel.remove(still_pending);
    EXPECT_EQ(wheel.size(), 3u);

    std::vector<timer_entry*> rest = advance(wheel, 100);
    ASSERT_EQ(rest.size(), 3u);
    EXPECT_EQ(rest.back(), &later);
    EXPECT_TRUE(wheel.empty());
}

} // namespace
