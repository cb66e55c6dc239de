// Every unfinished task of a runtime, for shutdown (cancel what is left) and introspection.
//
// Sharded by task id so that spawns and completions on different workers rarely meet on a lock.
// Links are intrusive (task_header::list_prev/list_next) and guarded by the shard's mutex.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <array>
#include <cstddef>
#include <vector>

namespace rt::detail {

class task_list {
public:
    void insert(task_header* t) noexcept {
        shard& s = shard_of(t);
        std::lock_guard lock(s.mu);
        t->list_prev = nullptr;
        t->list_next = s.head;
        if (s.head != nullptr)
            s.head->list_prev = t;
        s.head = t;
        ++s.count;
    }
    void remove(task_header* t) noexcept {
        shard& s = shard_of(t);
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
    /// Every listed task, each with a reference the caller must drop.
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
        mutex mu;
        task_header* head = nullptr;
        std::size_t count = 0;
    };
    shard& shard_of(task_header* t) noexcept { return shards_[t->id % shards_.size()]; }
    std::array<shard, 16> shards_;
};

} // namespace rt::detail
