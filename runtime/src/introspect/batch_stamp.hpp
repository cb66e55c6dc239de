// The clock reading a thread stamps a batch of wakes with, published for snapshot versions.
//
// snapshot_since(v) lists the tasks whose last change carries a stamp >= v, so every change made
// after a snapshot must carry a stamp no lower than that snapshot's version. Most stamps are
// readings taken earlier and reused (task/sampling.hpp): a poll's start serves every wake and
// spawn it makes; the reactor's round start serves the round's wakes, and a worker's harvest
// start its harvest's. runtime_impl::snapshot therefore takes its version as the lowest of its
// own reading, the start of every poll under way, and every batch start published here.
//
// The protocol against a concurrent snapshot, which first moves the coarse clock up to its own
// reading (a seq_cst read-modify-write) and then reads each batch_stamp (seq_cst):
//   begin() stores `busy` (seq_cst) before reading the clock and the coarse clock (seq_cst).
//   - The snapshot read 0: begin's store comes later in the single total order, so its coarse
//     read sees the snapshot's reading and the batch's stamp is no lower than the version.
//   - It read `busy`: the stamp is not known yet, and the version drops to 1 (everything).
//   - It read the stamp: the version is no higher than it.
// On x86 the seq_cst store is one xchg per batch; the loads are plain moves.
#pragma once

#include "detail/cycle_clock.hpp"
#include "rt/detail/atomic.hpp"

#include <algorithm>
#include <cstdint>

namespace rt::detail {

class batch_stamp {
public:
    /// Published between begin() and the stamp: a snapshot must assume anything.
    static constexpr std::uint64_t busy = 1;

    /// Starts a batch; returns the reading to stamp its wakes with.
    std::uint64_t begin(const atomic<std::uint64_t>& coarse) noexcept {
        value_.store(busy, memory_order_seq_cst);
        std::uint64_t now = std::max(cycle_now(), coarse.load(memory_order_seq_cst));
        value_.store(now, memory_order_relaxed);
        return now;
    }
    void end() noexcept { value_.store(0, memory_order_relaxed); }

    /// The stamp of the batch under way, `busy`, or 0 when there is none.
    std::uint64_t current() const noexcept { return value_.load(memory_order_seq_cst); }

private:
    atomic<std::uint64_t> value_{0};
};

} // namespace rt::detail
