// rt::introspect::histogram: a distribution of durations (or any non-negative counts), cheap to
// record and answering quantile(q).
//
//     detail::histogram_recorder poll_ns;          // inside the runtime: one per worker
//     poll_ns.record(elapsed_ns);                  // a few instructions, no allocation, no lock
//     histogram h = poll_ns.snapshot();            // a plain copy for readers
//     h.quantile(0.99);                            // an upper bound of the 99th percentile
//
// Buckets are log-linear: every power-of-two range [2^k, 2^(k+1)) is split into 8 equal
// sub-buckets, so a quantile is reported to within 12.5% of the true value over the full 64-bit
// range, with 496 counters (4 KiB) per histogram. Values below 8 are exact.
// quantile() returns the upper bound of the bucket that holds the q-th value, so it never
// under-reports a latency.
#pragma once

#include "rt/detail/atomic.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace rt::introspect {

namespace detail_hist {
inline constexpr unsigned sub_bits = 3;
inline constexpr std::size_t sub_count = std::size_t{1} << sub_bits;
inline constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_count;

constexpr std::size_t bucket_of(std::uint64_t v) noexcept {
    if (v < sub_count)
        return static_cast<std::size_t>(v);
    unsigned k = 63u - static_cast<unsigned>(std::countl_zero(v)); // 2^k <= v < 2^(k+1)
    std::size_t sub = static_cast<std::size_t>((v >> (k - sub_bits)) & (sub_count - 1));
    return (k - sub_bits + 1) * sub_count + sub;
}

/// The largest value that falls in bucket b.
constexpr std::uint64_t upper_bound_of(std::size_t b) noexcept {
    if (b < sub_count)
        return b;
    unsigned k = static_cast<unsigned>(b / sub_count) + sub_bits - 1;
    std::uint64_t sub = b % sub_count;
    std::uint64_t width = std::uint64_t{1} << (k - sub_bits);
    std::uint64_t low = (std::uint64_t{1} << k) + sub * width;
    return low + (width - 1);
}
} // namespace detail_hist

class histogram {
public:
    histogram() : counts_(detail_hist::bucket_count, 0) {}

    void record(std::uint64_t v, std::uint64_t n = 1) noexcept {
        counts_[detail_hist::bucket_of(v)] += n;
        total_ += n;
        if (v > max_)
            max_ = v;
    }
    /// Adds another histogram's counts (per-worker histograms into a runtime-wide one).
    void merge(const histogram& o) noexcept {
        for (std::size_t i = 0; i < counts_.size(); ++i)
            counts_[i] += o.counts_[i];
        total_ += o.total_;
        if (o.max_ > max_)
            max_ = o.max_;
    }

    std::uint64_t count() const noexcept { return total_; }
    std::uint64_t max() const noexcept { return max_; }
    /// An upper bound of the q-th quantile (0 <= q <= 1); 0 when empty.
    std::uint64_t quantile(double q) const noexcept {
        if (total_ == 0)
            return 0;
        if (q <= 0)
            q = 0;
        if (q >= 1)
            return max_;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t b = 0; b < counts_.size(); ++b) {
            seen += counts_[b];
            if (seen >= rank) {
                std::uint64_t ub = detail_hist::upper_bound_of(b);
                return ub < max_ ? ub : max_;
            }
        }
        return max_;
    }
    const std::vector<std::uint64_t>& buckets() const noexcept { return counts_; }

    /// A histogram from raw bucket counts (as a recorder keeps them) and the true maximum.
    static histogram from_buckets(std::vector<std::uint64_t> counts, std::uint64_t max) {
        histogram h;
        if (counts.size() != detail_hist::bucket_count)
            return h;
        h.counts_ = std::move(counts);
        for (std::uint64_t c : h.counts_)
            h.total_ += c;
        h.max_ = max;
        return h;
    }
    static std::uint64_t bucket_upper_bound(std::size_t b) noexcept {
        return detail_hist::upper_bound_of(b);
    }

private:
    std::vector<std::uint64_t> counts_;
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

} // namespace rt::introspect

namespace rt::detail {

/// The recording side: one writer thread, any number of snapshot readers.
class histogram_recorder {
public:
    /// Records `v`, standing for `n` values (a sampled recorder weighs each sample).
    void record(std::uint64_t v, std::uint64_t n = 1) noexcept {
        bump(counts_[introspect::detail_hist::bucket_of(v)], n);
        if (v > max_.load(memory_order_relaxed))
            max_.store(v, memory_order_relaxed);
    }
    introspect::histogram snapshot() const {
        std::vector<std::uint64_t> counts(counts_.size());
        for (std::size_t b = 0; b < counts_.size(); ++b)
            counts[b] = counts_[b].load(memory_order_relaxed);
        return introspect::histogram::from_buckets(std::move(counts),
                                                   max_.load(memory_order_relaxed));
    }

private:
    std::array<atomic<std::uint64_t>, introspect::detail_hist::bucket_count> counts_{};
    atomic<std::uint64_t> max_{0};
};

} // namespace rt::detail
