// Size-classed slab allocation for coroutine frames and task headers.
//
// Why: a million sleeping tasks are two million small blocks. malloc adds a header to each and
// takes locks across threads; fresh heap memory also faults in 4 KiB at a time. Here blocks come
// in 16-byte classes up to 512 bytes, carved from 2 MiB regions faulted in whole when mapped
// (MAP_POPULATE), and recycled through per-thread free lists. The regions do not ask for huge
// pages: with MADV_HUGEPAGE the sleepers benchmark varied from 1.48 to 2.30 s (the kernel
// compacting memory on the allocating thread to find them), against a steady 1.49 s pre-faulted.
//
// Protocol:
//  * Each thread owns a cache: one free list per class and a bump chunk (64 KiB) it carves from.
//    A block freed on any thread goes to that thread's list, whoever allocated it.
//  * A list that grows past 2 * batch hands a batch of `batch` blocks to the global pool; an empty
//    list takes a batch from the pool before carving new memory. The pool and the region carver
//    are guarded by one mutex each; they are touched once per batch or chunk, not per block.
//  * A thread's cache goes to the pool when the thread exits. Regions are never unmapped: memory
//    freed after a burst is kept for the next one (as most allocators keep their arenas).
//  * Blocks above the largest class go to malloc, as does everything under AddressSanitizer, so
//    use-after-free in frames stays visible there.
#include "rt/detail/frame_alloc.hpp"

#include "rt/detail/atomic.hpp"

#include <cstdint>
#include <cstdlib>
#include <new>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_FRAME_SLAB 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_FRAME_SLAB 0
#endif
#endif
#ifndef RT_FRAME_SLAB
#define RT_FRAME_SLAB 1
#endif

namespace rt::detail {

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t classes = 32; // up to 512 bytes
constexpr std::size_t batch = 512;
constexpr std::size_t region_size = std::size_t{2} << 20;
constexpr std::size_t chunk_size = std::size_t{64} << 10;

struct free_block {
    free_block* next;
};

struct block_batch {
    free_block* head = nullptr;
    std::size_t count = 0;
};

std::size_t size_class(std::size_t size) noexcept {
    return (size + granule - 1) / granule - 1;
}
std::size_t class_size(std::size_t c) noexcept {
    return (c + 1) * granule;
}

// Shared by all threads; immortal so that thread caches may flush into it during exit.
// A batch is a list of free blocks; its first block doubles as the pool's node for the batch
// (every class is at least 16 bytes: the link to the next batch and to the rest of this one).
class pool {
public:
    static pool& get() {
        static pool* p = new pool();
        return *p;
    }

    bool take(std::size_t c, block_batch& out) noexcept {
        batch_node* n;
        {
            std::lock_guard lock(mu_);
            n = batches_[c];
            if (n == nullptr)
                return false;
            batches_[c] = n->next_batch;
        }
        free_block* rest = n->rest;
        auto* head = reinterpret_cast<free_block*>(n);
        head->next = rest;
        std::size_t count = 0;
        for (free_block* b = head; b != nullptr; b = b->next)
            ++count;
        out.head = head;
        out.count = count;
        return true;
    }

    void give(std::size_t c, free_block* head) noexcept {
        if (head == nullptr)
            return;
        free_block* rest = head->next;
        auto* n = reinterpret_cast<batch_node*>(head);
        n->rest = rest;
        std::lock_guard lock(mu_);
        n->next_batch = batches_[c];
        batches_[c] = n;
    }

    // A fresh chunk of chunk_size bytes carved from the current huge-page region.
    char* chunk() {
        std::lock_guard lock(region_mu_);
        if (region_left_ < chunk_size) {
            void* p = mmap(nullptr, region_size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
            if (p == MAP_FAILED)
                throw std::bad_alloc();
            region_ = static_cast<char*>(p);
            region_left_ = region_size;
        }
        char* c = region_;
        region_ += chunk_size;
        region_left_ -= chunk_size;
        return c;
    }

private:
    struct batch_node {
        batch_node* next_batch;
        free_block* rest;
    };
    static_assert(sizeof(batch_node) <= granule);

    mutex mu_;
    batch_node* batches_[classes] = {};
    mutex region_mu_;
    char* region_ = nullptr;
    std::size_t region_left_ = 0;
};

// Trivially destructible, so still readable after a thread's cache is gone: frames freed by its
// later destructors (a static runtime shutting down, say) then go to the pool directly.
thread_local bool cache_gone = false;

struct cache {
    free_block* heads[classes] = {};
    std::size_t counts[classes] = {};
    char* bump = nullptr;
    std::size_t bump_left = 0;

    ~cache() {
        cache_gone = true;
        pool& p = pool::get();
        for (std::size_t c = 0; c < classes; ++c) {
            p.give(c, heads[c]);
            heads[c] = nullptr;
            counts[c] = 0;
        }
    }

    void* carve(std::size_t c) {
        std::size_t size = class_size(c);
        if (bump_left < size) {
            bump = pool::get().chunk();
            bump_left = chunk_size;
        }
        void* p = bump;
        bump += size;
        bump_left -= size;
        return p;
    }

    // Moves `batch` blocks from the front of list c to the pool.
    void spill(std::size_t c) {
        free_block* head = heads[c];
        free_block* last = head;
        for (std::size_t i = 1; i < batch; ++i)
            last = last->next;
        heads[c] = last->next;
        counts[c] -= batch;
        last->next = nullptr;
        pool::get().give(c, head);
    }
};

thread_local cache local_cache;

} // namespace

void* frame_allocate(std::size_t size) {
    std::size_t c = size_class(size);
    if (!RT_FRAME_SLAB || c >= classes) {
        if (void* p = std::malloc(size))
            return p;
        throw std::bad_alloc();
    }
    if (cache_gone) {
        // Rare (allocation during thread exit): a block that will later join the pool's lists.
        if (void* m = std::malloc(class_size(c)))
            return m;
        throw std::bad_alloc();
    }
    cache& k = local_cache;
    if (k.heads[c] == nullptr) {
        block_batch b;
        if (pool::get().take(c, b)) {
            k.heads[c] = b.head;
            k.counts[c] = b.count;
        }
    }
    if (free_block* b = k.heads[c]) {
        k.heads[c] = b->next;
        --k.counts[c];
        return b;
    }
    return k.carve(c);
}

void frame_deallocate(void* p, std::size_t size) noexcept {
    if (p == nullptr)
        return;
    std::size_t c = size_class(size);
    if (!RT_FRAME_SLAB || c >= classes) {
        std::free(p);
        return;
    }
    auto* b = static_cast<free_block*>(p);
    if (cache_gone) {
        b->next = nullptr;
        pool::get().give(c, b);
        return;
    }
    cache& k = local_cache;
    b->next = k.heads[c];
    k.heads[c] = b;
    if (++k.counts[c] >= 2 * batch)
        k.spill(c);
}

} // namespace rt::detail
