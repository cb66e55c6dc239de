// A cheap monotonic timestamp for per-poll accounting.
//
// Every poll records busy time and every wake a timestamp; steady_clock costs ~20 ns a read
// through the vDSO, the TSC a few. Counts are kept in ticks and converted to nanoseconds only
// when someone looks (a snapshot), with a rate measured once against steady_clock.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace rt::detail {

inline std::uint64_t cycle_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

/// Nanoseconds per tick, measured on first use (takes ~2 ms once per process).
double cycle_ns_per_tick() noexcept;

inline std::uint64_t cycles_to_ns(std::uint64_t ticks) noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * cycle_ns_per_tick());
}

} // namespace rt::detail
