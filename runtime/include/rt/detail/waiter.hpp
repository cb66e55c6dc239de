// Building blocks for awaitables that wait on shared state: mutexes, semaphores, notify, channels.
//
// The protocol every rt awaitable follows (and why each step is there):
//  1. await_suspend takes the primitive's lock, re-checks the condition, and either completes at
//     once (returns false) or links a `waiter` that lives inside the awaiter, with the current
//     waker, and returns true. The waiter is only ever touched under that lock.
//  2. The side that satisfies a waiter does so under the same lock: it unlinks the waiter, records
//     what it was given (`notified`, and for hand-off primitives the ownership itself), and calls
//     prepare() on a `pending_wake`, which marks the waiter's strand and takes a reference on its
//     task while the awaiter is known to be alive. It fires the wake after unlocking, touching
//     only the task (kept alive by that reference), never the awaiter.
//  3. The awaiter's destructor takes the lock and unlinks a still-linked waiter. If it was
//     notified but never resumed (cancelled by abort, timeout or select in between), a hand-off
//     primitive passes what it was given on to the next waiter, so cancellation loses nothing.
// Data that must survive cancellation (a channel's messages) stays in the primitive until the
// resumed awaiter takes it; a waiter is only told "look again".
#pragma once

#include "rt/detail/context.hpp"
#include "rt/detail/task_header.hpp"

#include <cstddef>
#include <vector>

namespace rt::detail {

struct waiter {
    waiter* prev = nullptr;
    waiter* next = nullptr;
    waker w;
    bool linked = false;
    bool notified = false;
};

/// An intrusive FIFO of waiters, guarded by its owner's lock.
class waiter_queue {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    waiter* front() const noexcept { return head_; }

    void push_back(waiter* w) noexcept {
        w->prev = tail_;
        w->next = nullptr;
        if (tail_ != nullptr)
            tail_->next = w;
        else
            head_ = w;
        tail_ = w;
        w->linked = true;
        ++size_;
    }

    void remove(waiter* w) noexcept {
        if (w->prev != nullptr)
            w->prev->next = w->next;
        else
            head_ = w->next;
        if (w->next != nullptr)
            w->next->prev = w->prev;
        else
            tail_ = w->prev;
        w->prev = w->next = nullptr;
        w->linked = false;
        --size_;
    }

    waiter* pop_front() noexcept {
        waiter* w = head_;
        if (w != nullptr)
            remove(w);
        return w;
    }

private:
    waiter* head_ = nullptr;
    waiter* tail_ = nullptr;
    std::size_t size_ = 0;
};

/// A wake prepared under a lock and fired after it (step 2 above). Move-only; fires on destruction
/// if not fired explicitly, so an early return cannot lose it.
class pending_wake {
public:
    pending_wake() noexcept = default;
    pending_wake(pending_wake&& o) noexcept : task_(o.task_) { o.task_ = nullptr; }
    pending_wake& operator=(pending_wake&&) = delete;
    ~pending_wake() { fire(); }

    /// Under the lock: marks w's strand ready and keeps its task alive until fire().
    void prepare(const waker& w) noexcept {
        fire();
        // Everything is read from `w` before the mark: after it, the awaiter may be gone.
        task_header* t = w.task;
        strand* target = w.target;
        ref_inc(t);
        task_ = t;
        if (target != nullptr)
            target->mark();
    }
    /// After the lock: queues the task.
    void fire() noexcept {
        if (task_ != nullptr) {
            task_header* t = task_;
            task_ = nullptr;
            wake_by_val(t);
        }
    }

private:
    task_header* task_ = nullptr;
};

/// Several prepared wakes (notify_waiters, a channel closing, waiting senders granted room);
/// fired in FIFO order. The first few need no allocation: most wakes under a lock are one or two.
class pending_wakes {
public:
    pending_wakes() = default;
    pending_wakes(const pending_wakes&) = delete;
    pending_wakes& operator=(const pending_wakes&) = delete;
    ~pending_wakes() { fire(); }

    /// Under the lock that keeps `w`'s waiter alive. May throw (allocating) before it takes any
    /// reference or marks anything.
    void prepare(const waker& w) {
        task_header* t = w.task;
        strand* target = w.target;
        if (n_ < inline_count)
            inline_[n_++] = t;
        else
            more_.push_back(t);
        ref_inc(t);
        if (target != nullptr)
            target->mark(); // last: the waiter may be gone once this is seen
    }
    void fire() noexcept {
        for (std::size_t i = 0; i < n_; ++i)
            wake_by_val(inline_[i]);
        n_ = 0;
        for (task_header* t : more_)
            wake_by_val(t);
        more_.clear();
    }

private:
    static constexpr std::size_t inline_count = 4;
    task_header* inline_[inline_count];
    std::size_t n_ = 0;
    std::vector<task_header*> more_;
};

} // namespace rt::detail
