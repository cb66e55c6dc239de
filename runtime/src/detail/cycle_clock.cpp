#include "detail/cycle_clock.hpp"

#include <chrono>

namespace rt::detail {

namespace {
double measure() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    using std::chrono::steady_clock;
    auto t0 = steady_clock::now();
    std::uint64_t c0 = cycle_now();
    while (steady_clock::now() - t0 < std::chrono::milliseconds(2)) {
    }
    auto t1 = steady_clock::now();
    std::uint64_t c1 = cycle_now();
    double ns =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    return c1 > c0 ? ns / static_cast<double>(c1 - c0) : 1.0;
#else
    return 1.0;
#endif
}
} // namespace

double cycle_ns_per_tick() noexcept {
    static const double rate = measure();
    return rate;
}

} // namespace rt::detail
