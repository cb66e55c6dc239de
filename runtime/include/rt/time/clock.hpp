// The clock rt's timers run on: monotonic, unaffected by changes to the wall clock.
#pragma once

#include <chrono>

namespace rt {
using clock = std::chrono::steady_clock;
} // namespace rt
