// Records of recently finished tasks, kept for introspection (runtime_builder::retain_completed).
//
// When a task finishes with recording on, a copy of what introspection reports about it (a
// retired_task, two cache lines) goes into a ring. The header itself is not kept, so retention
// holds no reference and frees nothing on another thread. Records older than the retention time
// are skipped by readers and overwritten as the ring turns.
//
// Rings and writers: one ring per worker, written only by that worker's thread, and one more
// shared by every other thread that finishes tasks (the blocking pool, block_on threads, a
// local set driven outside the pool, shutdown), whose writers take its spin lock. A completion
// on a worker therefore takes no lock and no locked instruction for its record, and its ring's
// lines stay in that worker's cache instead of moving between cores. The record's stores are
// still the main cost of retention (the completing state change waits for them to drain): a
// record is written word by word from the header, eleven stores for an unnamed task (the first
// word carries the name's length, so no word is spent on a terminator).
//
// Readers (snapshots, find_task; any thread) never block a writer: each ring is a sequence lock
// over its count of records written. Record n goes to slot n % capacity, and the count moves to
// n + 1 once the record is whole. A reader loads the count (c1), copies every slot, loads it
// again (c2), and keeps the records numbered from c2 + 1 - capacity to c1 - 1: those were whole
// before it started and not overwritten before it finished (record c2 may have been under way,
// and each record overwrites the one `capacity` before it). The words are atomics, so a
// copy that raced a write is a discarded copy, not a data race.
//
// Memory ordering: the writer stores every word of a record with release, after the count that
// published the previous record; the reader loads every word with acquire. So a reader that
// copied any word of record m also sees the count reach m, and discards that slot; and the
// count it loaded first (acquire; the writer stores it with release once the record is whole)
// makes the records below it visible whole. No fence is needed (ThreadSanitizer could not model
// one), and on x86 these are plain moves.
//
// A snapshot never misses a task that finishes while it runs: the record is written before the
// task leaves the live list (runtime_impl::retire), and snapshots read the live list first.
#pragma once

#include "detail/spin_lock.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

namespace rt::detail {

/// What introspection keeps of a finished task. Names longer than the buffer are cut (39 chars
/// with std::source_location; fewer where rt::source_location is the wider fallback). Exactly
/// two cache lines, aligned: every completion writes one, so it should dirty no more lines than
/// it must.
struct alignas(cache_line) retired_task {
    static constexpr std::uint16_t no_worker = 0xffff; // worker indices stay below 0xfff0
    static constexpr std::size_t fixed_bytes =
        10 * sizeof(std::uint64_t) + sizeof(rt::source_location);
    static_assert(fixed_bytes + 16 <= 2 * cache_line);

    task_kind kind = task_kind::async;
    task_outcome_code outcome = task_outcome_code::none;
    std::uint16_t last_worker = no_worker;
    std::uint32_t name_length = 0; // the name's bytes in `name`; a terminator follows on reading
    task_id id = 0;
    task_id parent = 0;
    std::uint64_t polls = 0, busy = 0, scheduled = 0, wakes = 0, self_wakes = 0;
    std::uint64_t created = 0, completed = 0;
    rt::source_location location;
    char name[2 * cache_line - fixed_bytes] = {};
};

static_assert(sizeof(retired_task) == 2 * cache_line);
static_assert(std::is_standard_layout_v<retired_task> &&
              std::is_trivially_copyable_v<retired_task>);
static_assert(offsetof(retired_task, id) == sizeof(std::uint64_t) &&
              offsetof(retired_task, location) == 10 * sizeof(std::uint64_t) &&
              offsetof(retired_task, name) == retired_task::fixed_bytes);

/// One ring of retired records. push() has one writer at a time (the owning worker, or whoever
/// holds the shared ring's lock); read_into() may run concurrently on any thread.
class retired_ring {
public:
    static constexpr std::size_t words = sizeof(retired_task) / sizeof(std::uint64_t);

    /// Before any push or read.
    void reset(std::size_t capacity) {
        slots_ = capacity != 0 ? std::make_unique<slot[]>(capacity) : nullptr;
        capacity_ = capacity;
        next_ = 0;
        written_.store(0, memory_order_relaxed);
    }

    /// Records `t` over the oldest record. Its completed_cycles must be stamped already. The
    /// words go from the header straight to the slot (no record assembled on the stack first).
    void push(const task_header* t) noexcept {
        const std::uint64_t n = written_.load(memory_order_relaxed); // ours alone to change
        slot& s = slots_[next_];
        auto put = [&s](std::size_t i, std::uint64_t v) {
            s.words[i].store(v, memory_order_release);
        };
        const task_stats& st = t->stats;
        std::uint32_t w = t->last_worker.load(memory_order_relaxed);
        const std::size_t name_len =
            t->name != nullptr ? std::min(std::strlen(t->name), max_name) : 0;
        put(0, head_word(t->kind, t->outcome,
                         w < retired_task::no_worker ? static_cast<std::uint16_t>(w)
                                                     : retired_task::no_worker,
                         static_cast<std::uint32_t>(name_len)));
        put(1, t->id);
        put(2, t->parent);
        put(3, st.polls.load(memory_order_relaxed));
        put(4, st.busy_cycles.load(memory_order_relaxed));
        put(5, st.scheduled_cycles.load(memory_order_relaxed));
        put(6, st.wakes());
        put(7, st.self_wakes.load(memory_order_relaxed));
        put(8, st.created_cycles.load(memory_order_relaxed));
        put(9, st.completed_cycles.load(memory_order_relaxed));
        std::size_t i = 10;
        for (std::uint64_t v : std::bit_cast<location_words>(t->location))
            put(i++, v);
        // The name's words; a reader ends it at name_length, whatever follows in the last.
        for (std::size_t at = 0; at < name_len; at += sizeof(std::uint64_t)) {
            std::uint64_t v = 0;
            std::memcpy(&v, t->name + at, std::min(sizeof v, name_len - at));
            put(i++, v);
        }
        written_.store(n + 1, memory_order_release);
        if (++next_ == capacity_)
            next_ = 0;
    }

    /// Appends the whole records within `keep` cycles of `now`, oldest first.
    void read_into(std::vector<retired_task>& out, std::uint64_t now, std::uint64_t keep) const {
        if (capacity_ == 0)
            return;
        std::vector<std::array<std::uint64_t, words>> copy(capacity_);
        const std::uint64_t c1 = written_.load(memory_order_acquire);
        for (std::size_t i = 0; i < capacity_; ++i)
            for (std::size_t k = 0; k < words; ++k)
                copy[i][k] = slots_[i].words[k].load(memory_order_acquire);
        const std::uint64_t c2 = written_.load(memory_order_relaxed);
        const std::uint64_t first = c2 + 1 > capacity_ ? c2 + 1 - capacity_ : 0;
        for (std::uint64_t r = first; r < c1; ++r) {
            auto rec = std::bit_cast<retired_task>(copy[r % capacity_]);
            rec.name_length = std::min(rec.name_length, static_cast<std::uint32_t>(max_name));
            rec.name[rec.name_length] = '\0'; // the rest of its last word may be an older name
            if (fresh(rec, now, keep))
                out.push_back(rec);
        }
    }

    static bool fresh(const retired_task& r, std::uint64_t now, std::uint64_t keep) noexcept {
        return now <= r.completed || now - r.completed <= keep;
    }

private:
    struct alignas(cache_line) slot {
        atomic<std::uint64_t> words[retired_ring::words] = {};
    };

    static constexpr std::size_t max_name = sizeof(retired_task::name) - 1;
    using location_words =
        std::array<std::uint64_t, sizeof(rt::source_location) / sizeof(std::uint64_t)>;
    static_assert(sizeof(rt::source_location) % sizeof(std::uint64_t) == 0);

    // The first word of a record: the fields that share it, laid out as in retired_task.
    static std::uint64_t head_word(task_kind kind, task_outcome_code outcome,
                                   std::uint16_t last_worker, std::uint32_t name_length) noexcept {
        struct head {
            task_kind kind;
            task_outcome_code outcome;
            std::uint16_t last_worker;
            std::uint32_t name_length;
        };
        static_assert(offsetof(head, last_worker) == offsetof(retired_task, last_worker) &&
                      offsetof(head, name_length) == offsetof(retired_task, name_length) &&
                      sizeof(head) == sizeof(std::uint64_t));
        return std::bit_cast<std::uint64_t>(head{kind, outcome, last_worker, name_length});
    }

    std::unique_ptr<slot[]> slots_;
    std::size_t capacity_ = 0;
    std::size_t next_ = 0;             // the writer's: where record written_ goes
    atomic<std::uint64_t> written_{0}; // records written so far; the writer's to change
};

/// The retention of one runtime: a ring per worker and a shared one.
class retention {
public:
    /// Finished tasks stay for `cycles` cycle-clock ticks, at most `max_count` in all, split
    /// evenly between the workers' rings and the shared one (each gets max_count / (workers + 1),
    /// rounded up). 0 for either turns retention off. Call before any task finishes.
    void configure(std::uint64_t cycles, std::size_t max_count, std::size_t workers) {
        keep_cycles_ = cycles;
        std::size_t rings = workers + 1;
        std::size_t per_ring = cycles == 0 ? 0 : (max_count + rings - 1) / rings;
        rings_ = std::make_unique<padded_ring[]>(rings);
        ring_count_ = rings;
        for (std::size_t i = 0; i < rings; ++i)
            rings_[i].ring.reset(per_ring);
        enabled_ = per_ring != 0;
    }

    bool enabled() const noexcept { return enabled_; }

    /// Records `t` on worker `w`'s thread (its ring has no other writer).
    void keep_on_worker(std::size_t w, const task_header* t) noexcept { rings_[w].ring.push(t); }

    /// Records `t` from a thread that is not one of the workers.
    void keep_shared(const task_header* t) noexcept {
        padded_ring& shared = rings_[ring_count_ - 1];
        std::lock_guard lock(shared.mu);
        shared.ring.push(t);
    }

    /// Copies of the records still within the retention time at `now`, in the order the tasks
    /// finished as far as the cycle clock tells (exactly among tasks that finished on one
    /// worker: each ring is read in write order, and a stable sort keeps it).
    std::vector<retired_task> collect(std::uint64_t now) const {
        std::vector<retired_task> out;
        for (std::size_t i = 0; i < ring_count_; ++i)
            rings_[i].ring.read_into(out, now, keep_cycles_);
        std::stable_sort(out.begin(), out.end(), [](const retired_task& a, const retired_task& b) {
            return a.completed < b.completed;
        });
        return out;
    }

    /// The record of `id`, if still kept at `now`.
    std::optional<retired_task> find(task_id id, std::uint64_t now) const {
        for (const retired_task& r : collect(now))
            if (r.id == id)
                return r;
        return std::nullopt;
    }

private:
    struct alignas(cache_line) padded_ring {
        retired_ring ring;
        spin_lock mu; // taken by the shared ring's writers only
    };

    std::unique_ptr<padded_ring[]> rings_;
    std::size_t ring_count_ = 0;
    std::uint64_t keep_cycles_ = 0;
    bool enabled_ = false;
};

} // namespace rt::detail
