// Wakes prepared under a channel's lock and fired after it, with no allocation for the first few.
// As everywhere in rt, a wake reads the waker's task and takes its reference before it marks the
// strand: once the mark is visible the woken task may run and free the waiter.
#pragma once

#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"

#include <cstddef>
#include <vector>

namespace rt::detail {

/// Wakes prepared under a lock and fired after it, in FIFO order; no allocation for a few.
class mpsc_wakes {
public:
    mpsc_wakes() = default;
    mpsc_wakes(const mpsc_wakes&) = delete;
    mpsc_wakes& operator=(const mpsc_wakes&) = delete;
    ~mpsc_wakes() { fire(); }

    /// Under the lock that keeps `w`'s waiter alive; `w` is a copy.
    void prepare(waker w) {
        if (n_ == inline_count)
            more_.reserve(more_.size() + 1); // may throw: before any reference is taken
        ref_inc(w.task);
        if (n_ < inline_count)
            inline_[n_++] = w.task;
        else
            more_.push_back(w.task);
        if (w.target != nullptr)
            w.target->mark(); // last: the waiter may be gone once this is seen
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
