// The queue of an unbounded rt::mpsc channel: a lock-free linked list of blocks of 31 slots
// (after crossbeam's list flavour, reduced to one receiver).
//
// A position is (block lap * 32 + offset) << 1; bit 0 of the tail is the closed mark, and offset
// 31 never holds a message: it means "the sender that took offset 30 is installing the next
// block", and other senders wait those few instructions. A sender claims a position with one CAS
// on the tail index, writes its slot and sets the slot's ready flag. The receiver walks its
// private head through the blocks and frees each block once it has read its last slot; the sender
// that filled that slot linked the next block before publishing, so the link is always there.
// Bytes per queued message: sizeof(T) plus a 4-byte ready flag, rounded up to alignof(T) (16 for
// an 8-byte T), plus an 8-byte link per 31 messages; blocks are allocated as the queue grows and
// freed as it drains.
#pragma once

#include "rt/chan/detail/mpsc_shared.hpp"

#include <cassert>
#include <cstdint>
#include <new>
#include <optional>
#include <utility>

namespace rt::detail {

template <class T>
class mpsc_unbounded final : public mpsc_shared<mpsc_unbounded<T>, T> {
    using base = mpsc_shared<mpsc_unbounded<T>, T>;
    friend base;

public:
    mpsc_unbounded() : head_block_(new block) { tail_block_.store(head_block_); }

    ~mpsc_unbounded() {
        // Every reference is gone: no operation is in flight. Destroy what nobody received.
        std::uint64_t end = tail_index_.load(memory_order_acquire) & ~closed_mark;
        block* b = head_block_;
        for (std::uint64_t i = head_index_; i != end; i += one) {
            unsigned offset = offset_of(i);
            if (offset == block_cap) {
                block* n = b->next.load(memory_order_acquire);
                delete b;
                b = n;
                continue;
            }
            slot& s = b->slots[offset];
            if (s.ready.load(memory_order_acquire) != 0)
                s.value()->~T();
        }
        while (b != nullptr) {
            block* n = b->next.load(memory_order_acquire);
            delete b;
            b = n;
        }
    }

    bool is_closed() const noexcept {
        return (tail_index_.load(memory_order_acquire) & closed_mark) != 0;
    }

    // ---- senders ----

    /// Appends `v` (moved from only on success) and wakes the receiver if it waits; false when
    /// the channel is closed. May allocate the next block (std::bad_alloc leaves the queue as it
    /// was).
    bool push(T& v) {
        std::uint64_t tail = tail_index_.load(memory_order_acquire);
        block* b = tail_block_.load(memory_order_acquire);
        block* spare = nullptr;
        mpsc_backoff backoff;
        for (;;) {
            if (tail & closed_mark) {
                delete spare;
                return false;
            }
            unsigned offset = offset_of(tail);
            if (offset == block_cap) {
                // Another sender is installing the next block.
                backoff.snooze();
                tail = tail_index_.load(memory_order_acquire);
                b = tail_block_.load(memory_order_acquire);
                continue;
            }
            if (offset + 1 == block_cap && spare == nullptr)
                spare = new block;
            if (tail_index_.compare_exchange_weak(tail, tail + one, memory_order_seq_cst,
                                                  memory_order_acquire)) {
                if (offset + 1 == block_cap) {
                    // Install the next block; an add (not a store) keeps a closed mark set
                    // meanwhile.
                    tail_block_.store(spare, memory_order_release);
                    tail_index_.fetch_add(one, memory_order_release);
                    b->next.store(spare, memory_order_release);
                    spare = nullptr;
                }
                delete spare;
                bool rx_waiting = this->rx_waiting(); // after the claim (see mpsc_shared)
                slot& s = b->slots[offset];
                ::new (static_cast<void*>(s.storage)) T(std::move(v));
                s.ready.store(1, memory_order_release);
                if (rx_waiting)
                    this->wake_rx();
                return true;
            }
            b = tail_block_.load(memory_order_acquire);
        }
    }

    // ---- the receiver (see mpsc_shared) ----

    void rx_prepare() noexcept {}
    bool rx_prepare_locked(pending_wakes&) noexcept { return false; }

    bool head_published() const noexcept {
        return head_block_->slots[offset_of(head_index_)].ready.load(memory_order_acquire) != 0;
    }

    bool rx_ready() const noexcept {
        if (head_published())
            return true;
        std::uint64_t t = tail_index_.load(memory_order_acquire);
        return (t & closed_mark) != 0 && (t & ~closed_mark) == head_index_;
    }

    bool claimed() const noexcept {
        return (tail_index_.load(memory_order_seq_cst) & ~closed_mark) != head_index_;
    }
    bool in_flight() const noexcept { return !head_published() && claimed(); }

    void take(std::optional<T>& out) {
        unsigned offset = offset_of(head_index_);
        slot& s = head_block_->slots[offset];
        if (s.ready.load(memory_order_acquire) == 0) {
            assert(is_closed());
            out.reset();
            return;
        }
        T* p = s.value();
        out.emplace(std::move(*p));
        p->~T();
        if (offset + 1 == block_cap) {
            block* n = head_block_->next.load(memory_order_acquire);
            assert(n != nullptr);
            delete head_block_;
            head_block_ = n;
            head_index_ += 2 * one; // past the install marker
        } else {
            head_index_ += one;
        }
    }

private:
    static constexpr unsigned lap = 32;
    static constexpr unsigned block_cap = lap - 1;
    static constexpr std::uint64_t closed_mark = 1;
    static constexpr std::uint64_t one = 2; // a position step, above the mark

    struct slot {
        atomic<std::uint32_t> ready{0};
        alignas(T) unsigned char storage[sizeof(T)];
        T* value() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
    };
    struct block {
        atomic<block*> next{nullptr};
        slot slots[block_cap];
    };

    static unsigned offset_of(std::uint64_t index) noexcept { return unsigned((index >> 1) % lap); }

    void close_locked(pending_wakes&) noexcept {
        tail_index_.fetch_or(closed_mark, memory_order_acq_rel);
    }

    // The senders' line.
    alignas(cache_line) atomic<std::uint64_t> tail_index_{0};
    atomic<block*> tail_block_{nullptr};
    // The receiver's line (private to it).
    alignas(cache_line) std::uint64_t head_index_ = 0;
    block* head_block_;
};

} // namespace rt::detail
