// The reader-writer lock behind rt::watch: many borrows read the value at once, a send replaces
// it alone. Blocking (it parks the thread, not the task), writer-preferring, one 32-bit word.
//
// Readers hold it only for the life of a borrow guard, which must be short and must not span an
// await. A waiting writer stops new readers from entering (so a stream of borrows cannot starve
// sends); the price is that taking a second borrow on a thread that already holds one can
// deadlock if a send comes in between, exactly as with Tokio's watch::Ref.
#pragma once

#include "rt/detail/atomic.hpp"

#include <cstdint>

namespace rt::detail {

class watch_rwlock {
public:
    watch_rwlock() = default;
    watch_rwlock(const watch_rwlock&) = delete;
    watch_rwlock& operator=(const watch_rwlock&) = delete;

    void lock_shared() noexcept {
        std::uint32_t s = state_.load(memory_order_relaxed);
        for (;;) {
            if ((s & (writer | writer_waiting)) != 0) {
                state_.wait(s, memory_order_relaxed);
                s = state_.load(memory_order_relaxed);
            } else if (state_.compare_exchange_weak(s, s + 1, memory_order_acquire,
                                                    memory_order_relaxed)) {
                return;
            }
        }
    }

    void unlock_shared() noexcept {
        std::uint32_t prev = state_.fetch_sub(1, memory_order_release);
        // The last reader out lets a waiting writer in.
        if ((prev & readers) == 1 && (prev & writer_waiting) != 0)
            state_.notify_all();
    }

    void lock() noexcept {
        std::uint32_t s = state_.load(memory_order_relaxed);
        for (;;) {
            if ((s & writer) != 0) {
                state_.wait(s, memory_order_relaxed);
                s = state_.load(memory_order_relaxed);
            } else if ((s & readers) == 0) {
                // Taking it clears writer_waiting; another waiting writer sets it again.
                if (state_.compare_exchange_weak(s, writer, memory_order_acquire,
                                                 memory_order_relaxed))
                    return;
            } else if ((s & writer_waiting) == 0) {
                // Announce the writer so that no new reader enters, then wait for the last out.
                if (state_.compare_exchange_weak(s, s | writer_waiting, memory_order_relaxed,
                                                 memory_order_relaxed))
                    s |= writer_waiting;
            } else {
                state_.wait(s, memory_order_relaxed);
                s = state_.load(memory_order_relaxed);
            }
        }
    }

    void unlock() noexcept {
        // While a writer holds it nobody else changes the word (waiters only wait).
        state_.store(0, memory_order_release);
        state_.notify_all();
    }

private:
    static constexpr std::uint32_t writer = 1u << 31;
    static constexpr std::uint32_t writer_waiting = 1u << 30;
    static constexpr std::uint32_t readers = writer_waiting - 1;

    atomic<std::uint32_t> state_{0};
};

} // namespace rt::detail
