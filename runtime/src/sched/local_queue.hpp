// Per-worker bounded run queue of the work-stealing scheduler; the protocol is Tokio's
// (tokio/src/runtime/scheduler/multi_thread/queue.rs).
//
// Layout. Indices are 32-bit counters that only ever grow and wrap modulo 2^32; a slot is
// `index & (Capacity - 1)`, and every distance is `later - earlier` in unsigned wrapping
// arithmetic. Capacity <= 2^31 keeps "full" (distance Capacity) apart from "empty" (0).
//
//   head  one 64-bit atomic packing (steal << 32) | real. `real` is the next task to pop or
//         steal. `steal` trails it while a stealer copies the slots [steal, real) out; when no
//         steal is in progress steal == real. Packing both lets one CAS move them together.
//   tail  32-bit atomic, one past the last pushed task.
//
// Who writes what.
//   tail   only the owner (push_back, push_back_batch, and steal_into on the queue the caller
//          owns), so the owner reads its own tail relaxed.
//   slots  only the owner, and only in [tail, steal + Capacity): slots between `steal` and
//          `real` still belong to a stealer that is copying them.
//   head   the owner's pop advances real by one (steal too when it equals real, so no steal is
//          in progress), and the owner's overflow moves both by Capacity / 2. A stealer claims
//          n tasks by CASing (s, s) -> (s, s + n); steal != real now turns other stealers away
//          and stops the owner from refilling those slots. It copies them, then CASes steal up
//          to the current real (the owner may have popped meanwhile), ending the steal.
//
// Memory orders. Slots are atomics accessed relaxed so that the one place where two threads
// touch the same slot (a stealer reading, later the owner refilling) is no data race; the
// head/tail orders give every slot read the value it must see:
//   - tail store release / stealer's tail load acquire: a stealer that sees tail sees the
//     slots written before it.
//   - every head write that moves real is a release RMW, and stealers load head acquire
//     before reading tail: the writer had already seen (owner: written) a tail >= the new
//     real, so whoever acquires that head value then reads a tail >= real. As all writes of
//     head are RMWs, they extend each other's release sequences, so this holds even when the
//     value read was written by a CAS that itself acquired nothing. Without it a stealer could
//     compute tail - real from a stale tail and "steal" 2^32 - k tasks.
//   - the stealer's final CAS of steal is release, and the owner loads head acquire before
//     writing slots (push_back, push_back_batch, steal_into's dst side): the stealer's slot
//     reads happen before the owner's overwrite, so a stealer never reads a refilled slot.
//   - nothing is acquired from the owner's pop or overflow CAS: the owner only reads slots it
//     wrote itself, and its next slot writes are preceded by a fresh acquire load of head.
// No operation needs a single total order over several atomics, so nothing is seq_cst.
//
// Overflow. When push_back finds the queue full it moves the older half plus the new task to
// the caller's overflow callback in one batch (the worker hands it to the global queue), so
// the next Capacity / 2 pushes are cheap and other workers can pick the batch up. If a steal
// is in progress the queue will shrink on its own, so only the new task is handed over.
//
// ABA: a CAS on head could succeed against a value that wrapped all 2^32 indices in between;
// a thread would have to stall for 2^32 queue operations, which Tokio accepts as well.
#pragma once

#include <cassert>
#include <cstdint>
#include <type_traits>

#include "rt/detail/atomic.hpp"

namespace rt::detail {

// T is a task node type; the queue stores T* and never owns or dereferences them.
// The queue object is the owner's handle: everything not marked "any thread" must be called
// from the one thread that owns it. Other threads hold a `stealer`.
template <class T, std::uint32_t Capacity = 256>
class local_queue {
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                  "Capacity must be a power of two so that slots are index & mask");
    static_assert(Capacity <= (std::uint32_t{1} << 31),
                  "32-bit wrapping distances must tell a full queue from an empty one");
    static_assert(atomic<std::uint64_t>::is_always_lock_free,
                  "the (steal, real) pair must move in one lock-free CAS");

public:
    class stealer;

    local_queue() noexcept : local_queue(0) {}
    // Starts all indices at first_index: tests use it to cross the 2^32 wrap cheaply.
    explicit local_queue(std::uint32_t first_index) noexcept
        : head_(pack(first_index, first_index)), tail_(first_index) {}

    // Stealers point into the queue, so it stays where it was built.
    local_queue(const local_queue&) = delete;
    local_queue& operator=(const local_queue&) = delete;

    // The handle must not outlive the queue.
    stealer get_stealer() noexcept { return stealer(*this); }

    // ---- owner thread only ----

    // Pushes at the back. When full and no steal is in progress, moves Capacity / 2 tasks from
    // the front plus t out in one batch: overflow(T** tasks, std::uint32_t n) receives them in
    // FIFO order. If a steal is in progress, overflow(&t, 1). If overflow throws, the tasks it
    // was handed have already left this queue.
    template <class Overflow>
    void push_back(T* t, Overflow&& overflow) noexcept(
        std::is_nothrow_invocable_v<Overflow&, T**, std::uint32_t>) {
        std::uint32_t const tail = tail_.load(memory_order_relaxed);
        for (;;) {
            std::uint64_t const head = head_.load(memory_order_acquire);
            std::uint32_t const steal = steal_of(head);
            // Measured from steal, not real: slots a stealer is still copying are not free.
            if (tail - steal < Capacity)
                break;
            if (steal != real_of(head)) {
                overflow(&t, std::uint32_t{1});
                return;
            }
            if (overflow_half(t, steal, overflow))
                return;
            // A stealer moved head between our load and the claim; the queue may have room now.
        }
        slots_[tail & mask].store(t, memory_order_relaxed);
        tail_.store(tail + 1, memory_order_release);
    }

    // Pushes n tasks in order; requires n <= remaining_slots().
    void push_back_batch(T* const* tasks, std::uint32_t n) noexcept {
        // Acquire even though only the assert reads the value: it orders our refill after the
        // stealers' reads of the slots that remaining_slots() reported free.
        [[maybe_unused]] std::uint32_t const steal = steal_of(head_.load(memory_order_acquire));
        std::uint32_t const tail = tail_.load(memory_order_relaxed);
        assert(n <= Capacity - (tail - steal) && "push_back_batch beyond remaining_slots()");
        for (std::uint32_t i = 0; i < n; ++i)
            slots_[(tail + i) & mask].store(tasks[i], memory_order_relaxed);
        tail_.store(tail + n, memory_order_release);
    }

    std::uint32_t remaining_slots() const noexcept {
        // Relaxed: a stale steal is an older, smaller one, so the answer can only be too low;
        // push_back_batch does its own acquire before writing.
        std::uint32_t const steal = steal_of(head_.load(memory_order_relaxed));
        return Capacity - (tail_.load(memory_order_relaxed) - steal);
    }

    // Front (FIFO); nullptr when empty.
    T* pop() noexcept {
        std::uint32_t const tail = tail_.load(memory_order_relaxed);
        // Relaxed: the CAS validates the whole value, and the slot we read is one we wrote.
        std::uint64_t head = head_.load(memory_order_relaxed);
        for (;;) {
            std::uint32_t const steal = steal_of(head);
            std::uint32_t const real = real_of(head);
            if (real == tail)
                return nullptr;
            std::uint64_t const next =
                steal == real ? pack(real + 1, real + 1) : pack(steal, real + 1);
            // Release: see "every head write that moves real" above.
            if (head_.compare_exchange_weak(head, next, memory_order_release, memory_order_relaxed))
                return slots_[real & mask].load(memory_order_relaxed);
        }
    }

    bool has_tasks() const noexcept {
        // Relaxed: a stale real is smaller, so at worst we say yes and pop() finds nothing.
        return tail_.load(memory_order_relaxed) != real_of(head_.load(memory_order_relaxed));
    }

    // ---- any thread ----

    // Approximate, for metrics and for stealers choosing a victim.
    std::uint32_t len() const noexcept {
        std::uint32_t const real = real_of(head_.load(memory_order_acquire));
        // Relaxed is enough: the head acquire already rules out tail < real. A tail newer than
        // the real we read can still overstate the length, hence the clamp.
        std::uint32_t const n = tail_.load(memory_order_relaxed) - real;
        return n < Capacity ? n : Capacity;
    }

private:
    static constexpr std::uint32_t mask = Capacity - 1;

    static constexpr std::uint64_t pack(std::uint32_t steal, std::uint32_t real) noexcept {
        return (std::uint64_t{steal} << 32) | real;
    }
    static constexpr std::uint32_t steal_of(std::uint64_t head) noexcept {
        return static_cast<std::uint32_t>(head >> 32);
    }
    static constexpr std::uint32_t real_of(std::uint64_t head) noexcept {
        return static_cast<std::uint32_t>(head);
    }

    // Called with the queue full and no steal in progress (steal == real == front). Returns
    // false if a stealer got in first.
    template <class Overflow>
    bool overflow_half(T* t, std::uint32_t front, Overflow& overflow) {
        constexpr std::uint32_t half = Capacity / 2;
        std::uint64_t expected = pack(front, front);
        // Claim before reading: only this thread writes slots, so the values cannot change,
        // and a successful claim means no stealer holds any of them. Release, as every write
        // that moves real; a failure is retried from a fresh acquire load, so it needs nothing.
        if (!head_.compare_exchange_strong(expected, pack(front + half, front + half),
                                           memory_order_release, memory_order_relaxed))
            return false;
        // Capacity / 2 + 1 pointers on the stack: 1 KiB for the default capacity.
        T* batch[half + 1];
        for (std::uint32_t i = 0; i < half; ++i)
            batch[i] = slots_[(front + i) & mask].load(memory_order_relaxed);
        batch[half] = t;
        overflow(batch, half + 1);
        return true;
    }

    // head is CASed by the owner and by every stealer; tail is written by the owner and polled
    // by stealers. Separate lines keep a steal from invalidating the owner's tail.
    alignas(cache_line) atomic<std::uint64_t> head_;
    alignas(cache_line) atomic<std::uint32_t> tail_;
    atomic<T*> slots_[Capacity]{};
};

// Another worker's handle to a queue: copyable, usable from any thread, and only able to take
// from the front in batches. It must not outlive the queue.
template <class T, std::uint32_t Capacity>
class local_queue<T, Capacity>::stealer {
public:
    bool is_empty() const noexcept { return len() == 0; }
    std::uint32_t len() const noexcept { return src_->len(); }

    // Steals half (rounded up) of this queue's tasks into dst, which the calling thread owns.
    // The last stolen task is returned to run now instead of being placed in dst; the others
    // are appended to dst in FIFO order. Returns nullptr if nothing could be stolen: the queue
    // is empty, another steal from it is in progress, or dst is more than half full.
    T* steal_into(local_queue& dst) const noexcept {
        assert(&dst != src_ && "a worker does not steal from itself");
        std::uint32_t const dst_tail = dst.tail_.load(memory_order_relaxed);
        // Acquire, as in push_back: dst's own stealers must be done with the slots we refill.
        // Measured from steal, so slots still being copied out of dst count as full.
        std::uint32_t const dst_steal = steal_of(dst.head_.load(memory_order_acquire));
        if (dst_tail - dst_steal > Capacity / 2)
            return nullptr;

        // Claim. Acquire on the load and on failure so the tail read next is >= real.
        std::uint64_t prev = src_->head_.load(memory_order_acquire);
        std::uint32_t first = 0;
        std::uint32_t n = 0;
        for (;;) {
            std::uint32_t const steal = steal_of(prev);
            first = real_of(prev);
            if (steal != first)
                return nullptr;
            // Acquire: the slots up to tail were written before it.
            std::uint32_t const available = src_->tail_.load(memory_order_acquire) - first;
            n = available - available / 2;
            if (n == 0)
                return nullptr;
            // Leaving steal behind keeps the owner from refilling [first, first + n) and other
            // stealers out until we finish. Release, as every write that moves real; a failure
            // is followed by another tail load, so it acquires like the first head load.
            if (src_->head_.compare_exchange_weak(prev, pack(steal, first + n),
                                                  memory_order_release, memory_order_acquire))
                break;
        }
        // The CAS saw steal == real, so the owner could not have pushed past first + Capacity
        // since our head load: n is at most half, and with dst at most half full it fits.
        assert(n <= Capacity / 2);

        // Slots up to dst_tail + n - 1 are ours and invisible to dst's stealers until we store
        // dst's tail; the last stolen task never needs a slot.
        for (std::uint32_t i = 0; i + 1 < n; ++i) {
            T* const task = src_->slots_[(first + i) & mask].load(memory_order_relaxed);
            dst.slots_[(dst_tail + i) & mask].store(task, memory_order_relaxed);
        }
        T* const ret = src_->slots_[(first + n - 1) & mask].load(memory_order_relaxed);

        // Finish: steal catches up with real, which the owner may have advanced by popping.
        // Release orders our slot reads before the owner's refill (it acquires head first).
        // A failure only hands us the real to catch up to; nothing is read on its strength,
        // so it is relaxed.
        prev = pack(first, first + n);
        while (!src_->head_.compare_exchange_weak(prev, pack(real_of(prev), real_of(prev)),
                                                  memory_order_release, memory_order_relaxed)) {
            assert(steal_of(prev) == first && "only this stealer may move steal now");
        }

        // Release: publishes the copied slots to dst's stealers.
        if (n > 1)
            dst.tail_.store(dst_tail + (n - 1), memory_order_release);
        return ret;
    }

private:
    friend class local_queue;
    explicit stealer(local_queue& src) noexcept : src_(&src) {}

    local_queue* src_;
};

} // namespace rt::detail
