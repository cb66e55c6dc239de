// The intrusive link a timer wheel keeps for each pending deadline. It lives inside a sleep
// awaiter (in a coroutine frame), so registering a timer allocates nothing. Packed into three
// words because a million sleeping tasks carry a million of them.
#pragma once

#include <cstdint>

namespace rt::detail {

struct timer_entry {
    /// Ticks are clamped below this (about 140,000 years of milliseconds).
    static constexpr std::uint64_t max_tick = (std::uint64_t{1} << 52) - 1;

    timer_entry* prev = nullptr;
    timer_entry* next = nullptr;
    std::uint64_t tick : 52 = 0; // deadline, in ticks (1 tick = 1 ms) since the wheel's origin
    std::uint64_t level : 4 = 0; // where it is linked (wheel-private)
    std::uint64_t slot : 6 = 0;
    std::uint64_t linked : 1 = 0; // set while in the wheel
    // The holder's own bit, touched only while the entry is not linked (rt::sleep: "the deadline
    // passed but the budget is spent: yield instead of registering"). It shares the word the
    // wheel writes, which is why it may not change while linked.
    std::uint64_t holder_flag : 1 = 0;
};
static_assert(sizeof(timer_entry) == 3 * sizeof(void*));

} // namespace rt::detail
