// The one seam through which the runtime reaches atomics, locks and fences.
//
// Every concurrent structure of rt includes this header instead of <atomic> or <mutex>
// directly, so an instrumented or model-checking build can swap the primitives in one place.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace rt::detail {

template <class T>
using atomic = std::atomic<T>;
using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

using mutex = std::mutex;
using condition_variable = std::condition_variable;

/// Adds to a counter that only one thread writes (others only read it): a plain load and store,
/// no locked instruction, yet readers never see a torn value.
template <class T>
inline void bump(atomic<T>& counter, T by = 1) noexcept {
    counter.store(counter.load(memory_order_relaxed) + by, memory_order_relaxed);
}

// Keeps two hot atomics written by different threads off one cache line.
inline constexpr std::size_t cache_line = 64;

} // namespace rt::detail
