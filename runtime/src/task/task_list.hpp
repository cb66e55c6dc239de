// Every unfinished task of a runtime, for shutdown (cancel what is left) and introspection, plus
// recently finished ones that introspection keeps for a while.
//
// Sharded by task id so that spawns and completions on different workers rarely meet on a lock.
// Links are intrusive (task_header::list_prev/list_next) and guarded by the shard's mutex. A task
// is on its shard's live list from spawn to completion; then, when retention is on, on the same
// shard's retained list (oldest first), holding one reference, until it is older than the
// retention time or pushed out by the count bound. Expiry is checked when a task retires and when
// someone collects, so nothing runs on a timer.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rt::detail {

class task_list {
public:
    static constexpr std::size_t shard_count = 16;

    ~task_list() { release_retained(); }

    /// Retention: finished tasks stay for `cycles` cycle-clock ticks, at most `max_count` in all
    /// (rounded up to a multiple of the shard count). 0 for either turns retention off.
    void set_retention(std::uint64_t cycles, std::size_t max_count) noexcept {
        retain_cycles_ = cycles;
        per_shard_max_ = (max_count + shard_count - 1) / shard_count;
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

    /// Takes `t` off the live list; keeps it when `keep` and retention is on, and then returns
    /// true: the caller hands the retained list one reference it owns (the task's own), so
    /// keeping costs no atomic operation. `now` is the cycle clock, for expiring older ones.
    bool retire(task_header* t, bool keep, std::uint64_t now) noexcept {
        shard& s = shard_of(t->id);
        task_header* expired = nullptr;
        bool kept = false;
        {
            std::lock_guard lock(s.mu);
            unlink(s, t);
            --s.count;
            if (keep && retain_cycles_ != 0 && per_shard_max_ != 0) {
                kept = true;
                t->list_next = nullptr;
                t->list_prev = s.retained_tail;
                if (s.retained_tail != nullptr)
                    s.retained_tail->list_next = t;
                else
                    s.retained_head = t;
                s.retained_tail = t;
                ++s.retained;
            }
            expired = expire_locked(s, now);
        }
        drop_chain(expired);
        return kept;
    }

    /// Every live task (and, with `retained`, every kept finished one not yet expired at `now`),
    /// each with a reference the caller must drop.
    std::vector<task_header*> collect(bool retained = false, std::uint64_t now = 0) {
        std::vector<task_header*> out;
        for (shard& s : shards_) {
            task_header* expired = nullptr;
            {
                std::lock_guard lock(s.mu);
                for (task_header* t = s.head; t != nullptr; t = t->list_next) {
                    ref_inc(t);
                    out.push_back(t);
                }
                if (retained) {
                    expired = expire_locked(s, now);
                    for (task_header* t = s.retained_head; t != nullptr; t = t->list_next) {
                        ref_inc(t);
                        out.push_back(t);
                    }
                }
            }
            drop_chain(expired);
        }
        return out;
    }

    /// The task with `id`, live or retained (and not expired at `now`), with a reference the
    /// caller must drop; or null.
    task_header* find(task_id id, std::uint64_t now) noexcept {
        shard& s = shard_of(id);
        task_header* found = nullptr;
        task_header* expired = nullptr;
        {
            std::lock_guard lock(s.mu);
            expired = expire_locked(s, now);
            for (task_header* t = s.head; t != nullptr && found == nullptr; t = t->list_next)
                if (t->id == id)
                    found = t;
            for (task_header* t = s.retained_head; t != nullptr && found == nullptr;
                 t = t->list_next)
                if (t->id == id)
                    found = t;
            if (found != nullptr)
                ref_inc(found);
        }
        drop_chain(expired);
        return found;
    }

    std::size_t size() noexcept {
        std::size_t n = 0;
        for (shard& s : shards_) {
            std::lock_guard lock(s.mu);
            n += s.count;
        }
        return n;
    }

    /// Drops every retained task (shutdown).
    void release_retained() noexcept {
        for (shard& s : shards_) {
            task_header* chain;
            {
                std::lock_guard lock(s.mu);
                chain = s.retained_head;
                s.retained_head = s.retained_tail = nullptr;
                s.retained = 0;
            }
            drop_chain(chain);
        }
    }

private:
    struct alignas(cache_line) shard {
        mutex mu;
        task_header* head = nullptr;
        std::size_t count = 0;
        task_header* retained_head = nullptr; // oldest first
        task_header* retained_tail = nullptr;
        std::size_t retained = 0;
    };

    static void unlink(shard& s, task_header* t) noexcept {
        if (t->list_prev != nullptr)
            t->list_prev->list_next = t->list_next;
        else
            s.head = t->list_next;
        if (t->list_next != nullptr)
            t->list_next->list_prev = t->list_prev;
        t->list_prev = t->list_next = nullptr;
    }

    // Detaches the retained tasks that are too old or over the bound; returns them as a chain
    // (through list_next) whose references the caller drops after unlocking: a drop may free.
    task_header* expire_locked(shard& s, std::uint64_t now) noexcept {
        task_header* first = s.retained_head;
        task_header* last = nullptr;
        while (s.retained_head != nullptr) {
            task_header* t = s.retained_head;
            std::uint64_t done = t->stats.completed_cycles.load(memory_order_relaxed);
            bool too_old = now > done && now - done > retain_cycles_;
            if (!too_old && s.retained <= per_shard_max_)
                break;
            last = t;
            s.retained_head = t->list_next;
            --s.retained;
        }
        if (last == nullptr)
            return nullptr;
        last->list_next = nullptr;
        if (s.retained_head == nullptr)
            s.retained_tail = nullptr;
        else
            s.retained_head->list_prev = nullptr;
        return first;
    }

    static void drop_chain(task_header* t) noexcept {
        while (t != nullptr) {
            task_header* next = t->list_next;
            t->list_prev = t->list_next = nullptr;
            ref_dec(t);
            t = next;
        }
    }

    shard& shard_of(task_id id) noexcept { return shards_[id % shards_.size()]; }
    std::array<shard, shard_count> shards_;
    std::uint64_t retain_cycles_ = 0;
    std::size_t per_shard_max_ = 0;
};

} // namespace rt::detail
