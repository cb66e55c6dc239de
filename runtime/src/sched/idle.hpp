// Which workers are parked, and how many are looking for work.
//
// One atomic word packs (searching << 16 | unparked). A worker that runs out of work becomes
// "searching" (stealing) only while fewer than half the workers search, so idle workers do not all
// hammer each other's queues. Whoever adds work calls worker_to_notify(): it wakes a parked worker
// only when nobody is searching, because a searcher will find the work anyway; the woken worker
// starts out searching. The last searcher to park re-checks every queue after announcing itself
// parked (see worker::park), which closes the window where work arrives after its last look.
//
// Memory order: a pusher publishes its work, then (seq_cst fence) reads the state word; a parking
// worker announces itself with a seq_cst RMW before its last look at the queues. Seq_cst orders
// the two, so either the pusher sees the parked worker or the worker sees the work.
#pragma once

#include "rt/detail/atomic.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace rt::detail {

class idle {
public:
    explicit idle(std::uint32_t workers) : workers_(workers), state_(workers) {
        sleepers_.reserve(workers);
    }

    /// Before stealing: false when enough workers already search.
    bool transition_to_searching() noexcept {
        std::uint32_t s = state_.load(memory_order_seq_cst);
        if (2 * searching(s) >= workers_)
            return false;
        state_.fetch_add(searching_one, memory_order_seq_cst);
        return true;
    }

    /// A searching worker found work. True when it was the last searcher (it must then wake
    /// another, so queued work always has someone looking for it).
    bool transition_from_searching() noexcept {
        std::uint32_t prev = state_.fetch_sub(searching_one, memory_order_seq_cst);
        return searching(prev) == 1;
    }

    struct parked_as {
        bool last_searcher; // it must re-check the queues for work that nobody looks for
        bool last_awake;    // no worker is awake now: nobody harvests I/O but the reactor
    };

    /// The worker parks.
    parked_as transition_to_parked(std::uint32_t worker, bool is_searching) {
        std::lock_guard lock(mu_);
        std::uint32_t dec = 1 + (is_searching ? searching_one : 0);
        std::uint32_t prev = state_.fetch_sub(dec, memory_order_seq_cst);
        sleepers_.push_back(worker);
        return {is_searching && searching(prev) == 1, (prev & 0xffff) == 1};
    }

    /// Every worker is parked (seq_cst: see io/backend/epoll.cpp, "Watching").
    bool all_parked() const noexcept { return (state_.load(memory_order_seq_cst) & 0xffff) == 0; }

    /// The worker to wake for new work, already counted as unparked and searching; or none.
    std::optional<std::uint32_t> worker_to_notify() {
        if (!should_notify(read_after_publish()))
            return std::nullopt;
        std::lock_guard lock(mu_);
        if (!should_notify(state_.load(memory_order_seq_cst)) || sleepers_.empty())
            return std::nullopt;
        std::uint32_t w = sleepers_.back();
        sleepers_.pop_back();
        state_.fetch_add(1 + searching_one, memory_order_seq_cst);
        return w;
    }

    /// True while `worker` is in the sleepers list (a wake-up that was not a notification).
    bool is_parked(std::uint32_t worker) {
        std::lock_guard lock(mu_);
        return std::find(sleepers_.begin(), sleepers_.end(), worker) != sleepers_.end();
    }

    /// Removes `worker` from the sleepers at shutdown or when it woke for another reason.
    bool unpark_by_id(std::uint32_t worker) {
        std::lock_guard lock(mu_);
        auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
        if (it == sleepers_.end())
            return false;
        sleepers_.erase(it);
        state_.fetch_add(1, memory_order_seq_cst);
        return true;
    }

    std::uint32_t num_searching() const noexcept {
        return searching(state_.load(memory_order_relaxed));
    }
    std::uint32_t num_unparked() const noexcept {
        return state_.load(memory_order_relaxed) & 0xffff;
    }

private:
    // The pusher's read of the state after publishing work. A seq_cst fence then a load is the
    // cheap form (the line stays shared between workers); ThreadSanitizer cannot model fences,
    // so its builds use an RMW, which reads the latest value in the word's modification order.
    std::uint32_t read_after_publish() noexcept {
#if defined(__SANITIZE_THREAD__)
        return state_.fetch_add(0, memory_order_seq_cst);
#else
        std::atomic_thread_fence(std::memory_order_seq_cst);
        return state_.load(memory_order_seq_cst);
#endif
    }

    static constexpr std::uint32_t searching_one = 1u << 16;
    static std::uint32_t searching(std::uint32_t s) noexcept {
        return s >> 16;
    }
    bool should_notify(std::uint32_t s) const noexcept {
        return searching(s) == 0 && (s & 0xffff) < workers_;
    }

    std::uint32_t workers_;
    atomic<std::uint32_t> state_;
    mutex mu_;
    std::vector<std::uint32_t> sleepers_;
};

} // namespace rt::detail
