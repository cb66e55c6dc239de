// Every unfinished task of a runtime, for shutdown (cancel what is left) and introspection, plus
// a record of recently finished ones that introspection keeps for a while.
//
// Sharded by task id so that spawns and completions on different workers rarely meet on a lock.
// Links are intrusive (task_header::list_prev/list_next) and guarded by the shard's lock. A task
// is on its shard's live list from spawn to completion. When it finishes and retention is on, a
// copy of what introspection reports about it goes into its shard's ring of retired records
// (under the same lock the unlink takes): the header itself is not kept, so retention holds no
// reference, touches no cold memory and frees nothing on another thread. Records older than the
// retention time are skipped by readers and overwritten as the ring turns.
#pragma once

#include "detail/spin_lock.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace rt::detail {

/// The fixed part of a retired record.
struct retired_fields {
    task_id id = 0;
    task_id parent = 0;
    task_kind kind = task_kind::async;
    task_outcome_code outcome = task_outcome_code::none;
    std::uint32_t last_worker = ~0u;
    rt::source_location location;
    std::uint64_t polls = 0, busy = 0, scheduled = 0, wakes = 0, self_wakes = 0;
    std::uint64_t created = 0, completed = 0;
};

/// What introspection keeps of a finished task. Names longer than the buffer are cut (39 chars
/// with std::source_location; fewer where rt::source_location is the wider fallback). Exactly
/// two cache lines, aligned: every completion writes one, so it should dirty no more lines than
/// it must.
struct alignas(cache_line) retired_task : retired_fields {
    static_assert(sizeof(retired_fields) + 16 <= 2 * cache_line);
    char name[2 * cache_line - sizeof(retired_fields)] = {};

    void fill(const task_header* t) noexcept {
        const task_stats& s = t->stats;
        id = t->id;
        parent = t->parent;
        kind = t->kind;
        outcome = t->outcome;
        last_worker = t->last_worker.load(memory_order_relaxed);
        location = t->location;
        polls = s.polls.load(memory_order_relaxed);
        busy = s.busy_cycles.load(memory_order_relaxed);
        scheduled = s.scheduled_cycles.load(memory_order_relaxed);
        wakes = s.wakes.load(memory_order_relaxed);
        self_wakes = s.self_wakes.load(memory_order_relaxed);
        created = s.created_cycles.load(memory_order_relaxed);
        completed = s.completed_cycles.load(memory_order_relaxed);
        name[0] = '\0';
        if (t->name != nullptr) {
            std::size_t n = std::min(std::strlen(t->name), sizeof name - 1);
            std::memcpy(name, t->name, n);
            name[n] = '\0';
        }
    }
};

static_assert(sizeof(retired_task) == 2 * cache_line);

class task_list {
public:
    static constexpr std::size_t shard_count = 16;

    /// Retention: finished tasks stay for `cycles` cycle-clock ticks, at most `max_count` in all
    /// (rounded up to a multiple of the shard count). 0 for either turns retention off. Call
    /// before any task is listed.
    void set_retention(std::uint64_t cycles, std::size_t max_count) {
        retain_cycles_ = cycles;
        std::size_t per_shard = (max_count + shard_count - 1) / shard_count;
        if (cycles == 0)
            per_shard = 0;
        for (shard& s : shards_)
            s.ring.assign(per_shard, retired_task{});
    }

    void insert(task_header* t) noexcept {
        shard& s = shard_of(t->id);
        std::lock_guard lock(s.mu);
        t->list_prev = nullptr;
        t->list_next = s.head;
        if (s.head != nullptr)
            s.head->list_prev = t;
        s.head = t;
        ++s.count;
    }

    /// Takes `t` off the live list; records it in the retired ring when `keep` and retention is
    /// on (its completed_cycles must be stamped already).
    void retire(task_header* t, bool keep) noexcept {
        shard& s = shard_of(t->id);
        std::lock_guard lock(s.mu);
        if (t->list_prev != nullptr)
            t->list_prev->list_next = t->list_next;
        else
            s.head = t->list_next;
        if (t->list_next != nullptr)
            t->list_next->list_prev = t->list_prev;
        t->list_prev = t->list_next = nullptr;
        --s.count;
        if (keep && !s.ring.empty()) {
            s.ring[s.next].fill(t);
            if (++s.next == s.ring.size())
                s.next = 0;
            s.filled = std::min(s.filled + 1, s.ring.size());
        }
    }

    /// Every live task, each with a reference the caller must drop.
    std::vector<task_header*> collect() {
        std::vector<task_header*> out;
        for (shard& s : shards_) {
            std::lock_guard lock(s.mu);
            for (task_header* t = s.head; t != nullptr; t = t->list_next) {
                ref_inc(t);
                out.push_back(t);
            }
        }
        return out;
    }

    /// Copies of the retired records still within the retention time at `now`.
    std::vector<retired_task> collect_retired(std::uint64_t now) {
        std::vector<retired_task> out;
        for (shard& s : shards_) {
            std::lock_guard lock(s.mu);
            for (std::size_t i = 0; i < s.filled; ++i)
                if (fresh(s.ring[i], now))
                    out.push_back(s.ring[i]);
        }
        return out;
    }

    /// The live task with `id`, with a reference the caller must drop; or null.
    task_header* find_live(task_id id) noexcept {
        shard& s = shard_of(id);
        std::lock_guard lock(s.mu);
        for (task_header* t = s.head; t != nullptr; t = t->list_next) {
            if (t->id == id) {
                ref_inc(t);
                return t;
            }
        }
        return nullptr;
    }

    /// The retired record of `id`, if still kept at `now`.
    std::optional<retired_task> find_retired(task_id id, std::uint64_t now) {
        shard& s = shard_of(id);
        std::lock_guard lock(s.mu);
        for (std::size_t i = 0; i < s.filled; ++i)
            if (s.ring[i].id == id && fresh(s.ring[i], now))
                return s.ring[i];
        return std::nullopt;
    }

    std::size_t size() noexcept {
        std::size_t n = 0;
        for (shard& s : shards_) {
            std::lock_guard lock(s.mu);
            n += s.count;
        }
        return n;
    }

private:
    struct alignas(cache_line) shard {
        spin_lock mu; // held for a few pointer moves (and one record copy) per spawn/completion
        task_header* head = nullptr;
        std::size_t count = 0;
        std::vector<retired_task> ring; // retired records; `next` is the oldest once full
        std::size_t next = 0;
        std::size_t filled = 0;
    };

    bool fresh(const retired_task& r, std::uint64_t now) const noexcept {
        return now <= r.completed || now - r.completed <= retain_cycles_;
    }

    shard& shard_of(task_id id) noexcept { return shards_[id % shards_.size()]; }
    std::array<shard, shard_count> shards_;
    std::uint64_t retain_cycles_ = 0;
};

} // namespace rt::detail
