// The intrusive link a timer wheel keeps for each pending deadline. It lives inside a sleep
// awaiter (in a coroutine frame), so registering a timer allocates nothing.
#pragma once

#include <cstdint>

namespace rt::detail {

struct timer_entry {
    timer_entry* prev = nullptr;
    timer_entry* next = nullptr;
    std::uint64_t tick = 0; // deadline, in ticks (1 tick = 1 ms) since the wheel's origin
    std::uint8_t level = 0; // where it is linked (wheel-private)
    std::uint8_t slot = 0;
    bool linked = false; // true while in the wheel
};

} // namespace rt::detail
