// Puts one thread to sleep until another unparks it, using no CPU while asleep (a futex).
//
// States: empty, parked (the owner sleeps or is about to), notified (a token waits to be taken).
// unpark() leaves a token when the owner is awake, so an unpark that races ahead of park() is not
// lost. Only the owner thread calls park(); any thread may call unpark().
#pragma once

#include "rt/detail/atomic.hpp"

#include <cstdint>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rt::detail {

class parker {
public:
    void park() noexcept {
        std::uint32_t expected = notified;
        if (state_.compare_exchange_strong(expected, empty, memory_order_acquire))
            return;
        expected = empty;
        if (!state_.compare_exchange_strong(expected, parked, memory_order_acquire)) {
            // An unpark slipped in: take its token.
            state_.exchange(empty, memory_order_acquire);
            return;
        }
        for (;;) {
            syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE,
                    parked, nullptr, nullptr, 0);
            expected = notified;
            if (state_.compare_exchange_strong(expected, empty, memory_order_acquire))
                return;
        }
    }

    void unpark() noexcept {
        if (state_.exchange(notified, memory_order_release) == parked)
            syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1,
                    nullptr, nullptr, 0);
    }

private:
    static constexpr std::uint32_t empty = 0;
    static constexpr std::uint32_t parked = 1;
    static constexpr std::uint32_t notified = 2;
    static_assert(sizeof(atomic<std::uint32_t>) == sizeof(std::uint32_t));
    atomic<std::uint32_t> state_{empty};
};

} // namespace rt::detail
