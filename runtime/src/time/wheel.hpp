// The hierarchical timing wheel behind rt's sleeps and timeouts.
//
// Why a wheel: the timer driver needs, under its lock and however many sleeps are pending,
// O(1) registration and O(1) cancellation (every timeout that loses a race cancels its timer, so
// cancellation is as common as firing), plus a cheap "when is the next thing due" so the I/O
// driver knows how long it may block. A heap would cost O(log n) and allocate; the wheel links
// entries through pointers that live in the sleep awaiter itself (timer_entry), so it never
// allocates and never fails.
//
// Shape: `levels` levels of 64 slots. A slot of level L spans 64^L ticks (1 tick = 1 ms), so a
// level spans 64^(L+1) ticks. Think of a tick as a number in base 64: level L is digit L.
//
// Invariants (elapsed = the last tick processed):
//  * Every linked entry has tick > elapsed; due deadlines are refused by insert() instead.
//  * An entry sits in level L = the digit of the highest bit in which tick and elapsed differ, at
//    slot = digit L of tick. Tick and elapsed therefore agree on all digits above L and tick's
//    digit L is larger, so the slot's start (its deadline) lies after elapsed and at or before
//    tick: processing the slot at its start can never be late. It also means everything in level
//    L is due before anything in level L+1, so the earliest deadline is in the lowest occupied
//    level and next_expiration() need not look further.
//  * Ticks that differ from elapsed above the top digit (more than one turn of the top level
//    away, or merely across a 64^levels boundary) go to the top level at their own slot, which
//    is then read as a ring: slot s is due at the next start of a top-level slot numbered s after
//    elapsed. That is still at or before tick, and processing it just re-links the entry (into
//    the same slot, one turn later) until tick comes into range. Such a slot can equal elapsed's
//    own top slot, which means "one full turn from now"; that is why the scan for the next
//    occupied slot starts just after elapsed's slot rather than at it. The price is one extra
//    re-link per such entry per turn (2.2 years) that advance() crosses, which only matters for a
//    wheel driven by a fake clock that jumps by centuries.
//  * A slot's bit in `occupied_` is set exactly when its list is non-empty, so the scan is a
//    rotate and a count of trailing zeros per level instead of a walk over 64 lists.
//  * advance() never skips a slot: it processes due slots in deadline order, setting elapsed to
//    each slot's start before re-linking its entries, so the invariants hold between steps.
//    Only when nothing more is due by `now` does elapsed jump to `now`.
//
// Staged cascade: a level-1 slot holds the next 64 ticks' entries and would be re-linked into
// level 0 all at once when its span begins. Each entry lives in a different coroutine frame, so
// that is a cache miss per entry: a million sleeps started within a third of a second put ~200 k
// entries in one slot, some 20 ms of re-linking during which nothing fired. So while the current
// span runs, each advance() moves a share of the next span's slot (its count divided by the
// ticks left) into a second level-0 array, the staging row; when the span begins the two rows
// trade places and only what was inserted meanwhile is re-linked then. Entries record the
// physical row they sit in (`level`: 0..levels-1, pending_level, or alt_row), so remove() needs
// no help; which of rows 0 and alt_row is level 0 is row0_. (Sleepers benchmark, 5 alternating
// runs: firing lateness p50 87 -> 66 ms, p99 133 -> 96 ms; the rest is the workers' backlog.)
//
// Who touches it: only the timer driver, with its lock held. The wheel has no synchronisation of
// its own. While an entry is linked, all of its fields (tick included) belong to the wheel. An
// entry must be removed (or have fired) before it is destroyed or re-inserted, and the wheel must
// be empty, or its entries abandoned, before the wheel is destroyed.
#pragma once

#include "rt/detail/timer_entry.hpp"

#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace rt::detail {

class timer_wheel {
public:
    static constexpr unsigned levels = 6; // 64 slots each: 64^6 ms ≈ 2.2 years of range

    timer_wheel() = default;
    // The slot heads are the only way to reach the entries, and the entries point back at their
    // neighbours, not at the wheel: a copy would share entries and a move would leave them
    // reachable from two wheels. The driver owns exactly one, in place.
    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;

    std::uint64_t elapsed() const noexcept { return elapsed_; }

    // Links e (e->tick already set). Returns false and links nothing if e->tick <= elapsed()
    // (already due: the caller completes it at once). Deadlines past the range are parked in the
    // top level and re-cascaded once per turn of it, so they still fire at their true tick. O(1).
    bool insert(timer_entry* e) noexcept {
        assert(e != nullptr && !e->linked);
        assert(!firing_ && "on_fire may not touch the wheel");
        if (e->tick <= elapsed_) {
            return false;
        }
        link(e, level_for(elapsed_, e->tick));
        ++size_;
        return true;
    }

    // O(1); e must be linked (in this wheel).
    void remove(timer_entry* e) noexcept {
        assert(e != nullptr && e->linked);
        assert(!firing_ && "on_fire may not touch the wheel");
        if (e->level == pending_level) {
            unlink(pending_, e);
        } else {
            timer_entry*& head = slots_[e->level][e->slot];
            assert(e->prev != nullptr || head == e);
            const unsigned slot = e->slot;
            const unsigned row = e->level;
            unlink(head, e);
            if (head == nullptr) {
                occupied_[row] &= ~(std::uint64_t{1} << slot);
            }
            if (row == 1) {
                --level1_count_[slot];
            }
        }
        --size_;
    }

    // The earliest tick at which advance() could fire something, or nullopt when empty. It is
    // exact when the earliest entry sits in level 0; otherwise it is the start of the slot that
    // must be cascaded first, which is a lower bound.
    std::optional<std::uint64_t> next_expiration() const noexcept {
        if (pending_ != nullptr) {
            // Only after an on_fire threw: the rest of that slot is due already.
            return elapsed_;
        }
        if (const auto exp = next_slot()) {
            return exp->deadline;
        }
        return std::nullopt;
    }

    // Moves time forward to `now` (ignored if now <= elapsed()), calling on_fire(timer_entry*)
    // for every entry whose tick <= now, each already unlinked when called, in non-decreasing
    // order of tick. on_fire may not touch the wheel; it may destroy the entry it is given. If
    // on_fire throws, the wheel stays consistent: the unfired entries of the slot being processed
    // stay linked (and removable) and fire first on the next advance().
    template <class F>
    void advance(std::uint64_t now, F&& on_fire) {
        assert(!firing_ && "on_fire may not touch the wheel");
        fire_pending(on_fire);
        while (const auto exp = next_slot()) {
            if (exp->deadline > now) {
                break;
            }
            process(*exp);
            fire_pending(on_fire);
        }
        if (now > elapsed_) {
            elapsed_ = now;
        }
        stage_next_span();
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

private:
    static constexpr unsigned slot_bits = 6;
    static constexpr unsigned slots = 1u << slot_bits;
    static constexpr unsigned slot_mask = slots - 1;
    // The second level-0 row (see "Staged cascade" above): rows are levels 0.. plus this one.
    static constexpr std::uint8_t alt_row = levels;
    static constexpr unsigned rows = levels + 1;
    // Marks an entry that is due but not yet handed to on_fire (in no row); see fire_pending().
    static constexpr std::uint8_t pending_level = rows;
    // next_slot()'s name for "the staged row becomes level 0 now".
    static constexpr unsigned staged_level = alt_row;
    static_assert(levels * slot_bits < 64, "the top level's ring arithmetic needs a spare bit");
    static_assert(pending_level < 16, "timer_entry::level has four bits");

    struct expiration {
        unsigned level;
        unsigned slot;
        std::uint64_t deadline;
    };

    static unsigned level_for(std::uint64_t from, std::uint64_t tick) noexcept {
        // tick != from in every caller; OR-ing in digit 0 just keeps bit_width() - 1 from wrapping.
        const std::uint64_t diff = (from ^ tick) | slot_mask;
        const unsigned level = (static_cast<unsigned>(std::bit_width(diff)) - 1) / slot_bits;
        return level < levels ? level : levels - 1;
    }

    static unsigned slot_for(std::uint64_t tick, unsigned level) noexcept {
        return static_cast<unsigned>(tick >> (level * slot_bits)) & slot_mask;
    }

    static void prefetch(const timer_entry* e) noexcept {
        if (e != nullptr)
            __builtin_prefetch(e, 1);
    }

    static void push(timer_entry*& head, timer_entry* e) noexcept {
        e->prev = nullptr;
        e->next = head;
        if (head != nullptr) {
            head->prev = e;
        }
        head = e;
        e->linked = true;
    }

    static void unlink(timer_entry*& head, timer_entry* e) noexcept {
        if (e->prev != nullptr) {
            e->prev->next = e->next;
        } else {
            head = e->next;
        }
        if (e->next != nullptr) {
            e->next->prev = e->prev;
        }
        e->prev = nullptr;
        e->next = nullptr;
        e->linked = false;
    }

    unsigned row_of(unsigned level) const noexcept { return level == 0 ? row0_ : level; }
    unsigned staging_row() const noexcept { return row0_ == 0 ? alt_row : 0; }

    void link(timer_entry* e, unsigned level) noexcept { link_row(e, row_of(level), level); }

    // Links e into `row`, at its slot of `level` (0 for the staging row).
    void link_row(timer_entry* e, unsigned row, unsigned level) noexcept {
        const unsigned slot = slot_for(e->tick, level);
        e->level = static_cast<std::uint8_t>(row);
        e->slot = static_cast<std::uint8_t>(slot);
        push(slots_[row][slot], e);
        occupied_[row] |= std::uint64_t{1} << slot;
        if (row == 1) {
            ++level1_count_[slot];
        }
    }

    // The start of the span after elapsed's: where the staged entries' ticks begin.
    std::uint64_t next_span() const noexcept { return (elapsed_ | slot_mask) + 1; }

    // Moves a share of the next span's level-1 slot into the staging row: its count divided by
    // the ticks left before the span begins, so that advancing one tick at a time spreads the
    // re-links evenly. When elapsed's level-1 digit is the last, the next span's entries are
    // still in level 2 (they cascade into level 1 only at the span's start): nothing to do.
    void stage_next_span() noexcept {
        const unsigned digit = slot_for(elapsed_, 1);
        if (digit == slot_mask) {
            return;
        }
        const unsigned slot = digit + 1;
        const std::uint32_t count = level1_count_[slot];
        if (count == 0) {
            return;
        }
        const std::uint64_t left = next_span() - elapsed_; // 1 .. 64 ticks
        std::uint64_t n = (count + left - 1) / left;
        timer_entry*& head = slots_[1][slot];
        const unsigned row = staging_row();
        for (; n > 0 && head != nullptr; --n) {
            timer_entry* const e = head;
            // Same digits as elapsed above level 1, digit 1 one more: the next span exactly.
            assert(e->tick >= next_span() && e->tick < next_span() + slots);
            unlink(head, e);
            prefetch(head); // entries live in scattered frames: start the next miss now
            --level1_count_[slot];
            link_row(e, row, 0);
        }
        if (head == nullptr) {
            occupied_[1] &= ~(std::uint64_t{1} << slot);
        }
    }

    std::optional<expiration> next_slot() const noexcept {
        for (unsigned level = 0; level < levels; ++level) {
            if (level == 1 && occupied_[staging_row()] != 0) {
                // Level 0 is empty: the staged span is next, and its start comes before (or
                // with) any level-1 slot's.
                return expiration{staged_level, 0, next_span()};
            }
            const std::uint64_t occupied = occupied_[row_of(level)];
            if (occupied == 0) {
                continue;
            }
            const unsigned shift = level * slot_bits;
            const unsigned current = slot_for(elapsed_, level);
            // elapsed's own slot comes last: below the top it is always empty (its entries would
            // be due or belong to a lower level), at the top it means a full turn from now.
            const unsigned first = (current + 1) & slot_mask;
            const unsigned skip = static_cast<unsigned>(
                std::countr_zero(std::rotr(occupied, static_cast<int>(first))));
            const unsigned slot = (first + skip) & slot_mask;
            const std::uint64_t level_span = std::uint64_t{1} << (shift + slot_bits);
            std::uint64_t deadline =
                (elapsed_ & ~(level_span - 1)) + (std::uint64_t{slot} << shift);
            if (slot <= current) {
                // Only ring entries of the top level wrap. They exist only when a later span
                // exists, so this cannot overflow.
                assert(level == levels - 1);
                deadline += level_span;
            }
            assert(deadline > elapsed_);
            return expiration{level, slot, deadline};
        }
        return std::nullopt;
    }

    // Detaches the slot's whole list before re-linking anything: top-level ring entries go back
    // into this very slot, and must not be met again in the same pass.
    void process(const expiration& exp) noexcept {
        if (exp.level == staged_level) {
            begin_staged_span(exp.deadline);
            return;
        }
        const unsigned row = row_of(exp.level);
        timer_entry* e = std::exchange(slots_[row][exp.slot], nullptr);
        occupied_[row] &= ~(std::uint64_t{1} << exp.slot);
        if (row == 1) {
            level1_count_[exp.slot] = 0;
        }
        elapsed_ = exp.deadline;
        while (e != nullptr) {
            timer_entry* const next = e->next;
            if (e->tick <= elapsed_) {
                // The slot start is never past an entry's tick, so due means due exactly now.
                assert(e->tick == elapsed_);
                push(pending_, e);
                e->level = pending_level;
                e->slot = 0;
            } else {
                // Same digits as elapsed down to this level, so this lands strictly lower, except
                // for ring entries, which stay at the top.
                link(e, level_for(elapsed_, e->tick));
            }
            e = next;
        }
    }

    // The staged span begins at `start`: level 0 (empty: everything before `start` has fired)
    // and the staging row trade places. The entries due at `start` itself go to pending, and
    // what the span's level-1 slot gained since staging began is re-linked as a plain cascade.
    void begin_staged_span(std::uint64_t start) noexcept {
        assert(occupied_[row0_] == 0 && start == next_span());
        row0_ = staging_row(); // the old level-0 row, empty, becomes the staging row
        elapsed_ = start;
        const unsigned first = slot_for(start, 0); // 0: a span starts at digit 0
        timer_entry* e = std::exchange(slots_[row0_][first], nullptr);
        occupied_[row0_] &= ~(std::uint64_t{1} << first);
        while (e != nullptr) {
            timer_entry* const next = e->next;
            assert(e->tick == start);
            push(pending_, e);
            e->level = pending_level;
            e->slot = 0;
            e = next;
        }
        const unsigned slot = slot_for(start, 1);
        if (slots_[1][slot] != nullptr) {
            process(expiration{1, slot, start});
        }
    }

    // Due entries wait in `pending_`, still linked, until the moment they are handed over, so
    // that a throwing on_fire loses none of them and remove() keeps working on them.
    template <class F>
    void fire_pending(F& on_fire) {
        while (pending_ != nullptr) {
            timer_entry* const e = pending_;
            unlink(pending_, e);
            prefetch(pending_);
            --size_;
            const firing_scope scope(firing_);
            on_fire(e);
        }
    }

    // Lets the asserts catch an on_fire that reaches back into the wheel.
    struct firing_scope {
        bool& flag;
        explicit firing_scope(bool& f) noexcept : flag(f) { flag = true; }
        ~firing_scope() { flag = false; }
        firing_scope(const firing_scope&) = delete;
        firing_scope& operator=(const firing_scope&) = delete;
    };

    std::uint64_t elapsed_ = 0;
    std::size_t size_ = 0;
    timer_entry* pending_ = nullptr;
    bool firing_ = false;
    unsigned row0_ = 0; // which row is level 0: 0 or alt_row
    std::array<std::uint32_t, slots> level1_count_{};
    // Indexed by row: levels 1.. at their own index, level 0 and staging at 0 and alt_row.
    std::array<std::uint64_t, rows> occupied_{};
    std::array<std::array<timer_entry*, slots>, rows> slots_{};
};

} // namespace rt::detail
