// Size-classed, per-thread free lists for coroutine frames and task headers.
//
// Protocol: a block freed on thread A goes onto A's list for its size class, whichever thread
// allocated it; lists are thread-local, so no atomics. Each list is capped so a thread that frees
// what others allocated (the reactor side of a producer/consumer pair) does not hoard memory:
// past the cap, blocks go back to malloc. Blocks above the largest class go straight to malloc.
// Sizes are rounded to 16 bytes; the class is recomputed from the size passed to delete, which
// C++ guarantees equals the size asked for at allocation.
#include "rt/detail/frame_alloc.hpp"

#include <cstdlib>
#include <new>

namespace rt::detail {

#if defined(__SANITIZE_ADDRESS__)
#define RT_FRAME_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_FRAME_CACHE 0
#endif
#endif
#ifndef RT_FRAME_CACHE
#define RT_FRAME_CACHE 1
#endif

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t classes = 32; // up to 512 bytes
constexpr std::size_t max_cached = 4096;

struct free_block {
    free_block* next;
};

struct cache {
    free_block* heads[classes] = {};
    std::size_t counts[classes] = {};
    ~cache() {
        for (std::size_t c = 0; c < classes; ++c) {
            while (free_block* b = heads[c]) {
                heads[c] = b->next;
                std::free(b);
            }
        }
    }
};

thread_local cache local_cache;

std::size_t size_class(std::size_t size) noexcept {
    return (size + granule - 1) / granule - 1;
}

} // namespace

void* frame_allocate(std::size_t size) {
    // Under AddressSanitizer every block goes back to malloc, so use-after-free stays visible.
    if constexpr (!RT_FRAME_CACHE) {
        if (void* p = std::malloc(size))
            return p;
        throw std::bad_alloc();
    }
    std::size_t c = size_class(size);
    if (c < classes) {
        cache& k = local_cache;
        if (free_block* b = k.heads[c]) {
            k.heads[c] = b->next;
            --k.counts[c];
            return b;
        }
        size = (c + 1) * granule;
    }
    void* p = std::malloc(size);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

void frame_deallocate(void* p, std::size_t size) noexcept {
    if (p == nullptr)
        return;
    if constexpr (!RT_FRAME_CACHE) {
        std::free(p);
        return;
    }
    std::size_t c = size_class(size);
    if (c < classes) {
        cache& k = local_cache;
        if (k.counts[c] < max_cached) {
            auto* b = static_cast<free_block*>(p);
            b->next = k.heads[c];
            k.heads[c] = b;
            ++k.counts[c];
            return;
        }
    }
    std::free(p);
}

} // namespace rt::detail
