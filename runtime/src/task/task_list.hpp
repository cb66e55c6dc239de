// Every unfinished task of a runtime, for shutdown (cancel what is left) and introspection.
//
// Sharded by task id so that spawns and completions on different workers rarely meet on a lock.
// Links are intrusive (task_header::list_prev/list_next) and guarded by the shard's lock. A task
// is on its shard's live list from spawn to completion. What introspection keeps of finished
// tasks is elsewhere (task/retention.hpp).
#pragma once

#include "detail/spin_lock.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <array>
#include <cstddef>
#include <mutex>
#include <vector>

namespace rt::detail {

class task_list {
public:
    static constexpr std::size_t shard_count = 16;

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

    /// Takes `t` off the live list.
    void remove(task_header* t) noexcept {
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
        spin_lock mu; // held for a few pointer moves per spawn/completion
        task_header* head = nullptr;
        std::size_t count = 0;
    };

    shard& shard_of(task_id id) noexcept { return shards_[id % shards_.size()]; }
    std::array<shard, shard_count> shards_;
};

} // namespace rt::detail
