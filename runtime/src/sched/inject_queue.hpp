// The global injection queue: where tasks woken from outside the worker pool (the reactor, the
// blocking pool, block_on's thread) and local-queue overflow go. Workers take from it in batches.
//
// An intrusive FIFO (task_header::queue_next) under a mutex; `len_` is readable without the lock
// so idle workers can check for work cheaply (a stale answer is corrected by the parking protocol,
// which re-checks after announcing itself parked).
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/task_header.hpp"

#include <cstddef>

namespace rt::detail {

class inject_queue {
public:
    void push(task_header* t) noexcept { push_batch(t, t, 1); }

    /// Appends the chain first..last (linked through queue_next) of n tasks.
    void push_batch(task_header* first, task_header* last, std::size_t n) noexcept {
        last->queue_next = nullptr;
        std::lock_guard lock(mu_);
        if (tail_ != nullptr)
            tail_->queue_next = first;
        else
            head_ = first;
        tail_ = last;
        len_.store(len_.load(memory_order_relaxed) + n, memory_order_release);
    }

    task_header* pop() noexcept {
        if (is_empty())
            return nullptr;
        std::lock_guard lock(mu_);
        return pop_locked();
    }

    /// Pops up to `max` tasks into out[]; returns how many.
    std::size_t pop_n(task_header** out, std::size_t max) noexcept {
        if (is_empty() || max == 0)
            return 0;
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        while (n < max) {
            task_header* t = pop_locked();
            if (t == nullptr)
                break;
            out[n++] = t;
        }
        return n;
    }

    bool is_empty() const noexcept { return len_.load(memory_order_acquire) == 0; }
    std::size_t len() const noexcept { return len_.load(memory_order_relaxed); }

private:
    task_header* pop_locked() noexcept {
        task_header* t = head_;
        if (t == nullptr)
            return nullptr;
        head_ = t->queue_next;
        if (head_ == nullptr)
            tail_ = nullptr;
        t->queue_next = nullptr;
        len_.store(len_.load(memory_order_relaxed) - 1, memory_order_release);
        return t;
    }

    mutex mu_;
    task_header* head_ = nullptr;
    task_header* tail_ = nullptr;
    atomic<std::size_t> len_{0};
};

} // namespace rt::detail
