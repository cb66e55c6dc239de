// Allocation of coroutine frames and task headers.
//
// Frames and headers are small and short-lived, and a million of them may be alive at once
// (the sleepers). Size-classed, per-thread free lists avoid the allocator's per-chunk header and
// its locks; memory freed on another thread goes to that thread's lists, so nothing is shared.
#pragma once

#include <cstddef>

namespace rt::detail {

void* frame_allocate(std::size_t size);
void frame_deallocate(void* p, std::size_t size) noexcept;

} // namespace rt::detail
