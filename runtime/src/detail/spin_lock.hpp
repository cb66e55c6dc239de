// A test-and-test-and-set lock for critical sections of a few dozen instructions that two
// workers meet on often (the task list's shards: every spawn and every completion). A futex
// mutex there puts the loser to sleep and pays two system calls for a wait of nanoseconds; this
// spins with a pause and gives the core away only after a while (a holder that was preempted).
#pragma once

#include "rt/detail/atomic.hpp"

#include <thread>

namespace rt::detail {

class spin_lock {
public:
    void lock() noexcept {
        if (!locked_.exchange(true, memory_order_acquire))
            return;
        for (unsigned spins = 0;;) {
            while (locked_.load(memory_order_relaxed)) {
                if (++spins < 64) {
                    pause();
                } else {
                    std::this_thread::yield();
                }
            }
            if (!locked_.exchange(true, memory_order_acquire))
                return;
        }
    }
    bool try_lock() noexcept {
        return !locked_.load(memory_order_relaxed) && !locked_.exchange(true, memory_order_acquire);
    }
    void unlock() noexcept { locked_.store(false, memory_order_release); }

private:
    static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }
    atomic<bool> locked_{false};
};

} // namespace rt::detail
