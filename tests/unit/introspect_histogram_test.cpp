// Log-linear histograms: bucket bounds, relative error, quantiles, merging, the recorder.
#include <rt/introspect/histogram.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

namespace {

using rt::introspect::histogram;

TEST(introspect_histogram, small_values_are_exact) {
    histogram h;
    for (std::uint64_t v = 0; v < 8; ++v)
        h.record(v);
    EXPECT_EQ(h.count(), 8u);
    EXPECT_EQ(h.quantile(0.0), 0u);
    EXPECT_EQ(h.quantile(0.5), 3u);
    EXPECT_EQ(h.quantile(1.0), 7u);
}

TEST(introspect_histogram, every_value_lies_in_a_bucket_within_an_eighth) {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 200'000; ++i) {
        std::uint64_t v = rng() >> (rng() % 64);
        std::size_t b = rt::introspect::detail_hist::bucket_of(v);
        std::uint64_t ub = histogram::bucket_upper_bound(b);
        ASSERT_GE(ub, v) << v;
        // The bucket's width is at most an eighth of its lower bound.
        ASSERT_LE(ub - v, v / 8 + 1) << v;
        if (b > 0) {
            ASSERT_LT(histogram::bucket_upper_bound(b - 1), v) << v;
        }
    }
    EXPECT_EQ(histogram::bucket_upper_bound(rt::introspect::detail_hist::bucket_of(~0ull)), ~0ull);
}

TEST(introspect_histogram, quantiles_track_the_exact_ones_from_above) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(10.0, 1.5); // latency-like: ~22 us median, long tail
    std::vector<std::uint64_t> values;
    histogram h;
    for (int i = 0; i < 100'000; ++i) {
        auto v = static_cast<std::uint64_t>(dist(rng));
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        std::uint64_t exact = values[static_cast<std::size_t>(q * (values.size() - 1))];
        std::uint64_t got = h.quantile(q);
        EXPECT_GE(got, exact) << q;
        EXPECT_LE(got, exact + exact / 8 + 1) << q;
    }
    EXPECT_EQ(h.quantile(1.0), values.back());
    EXPECT_EQ(h.max(), values.back());
}

TEST(introspect_histogram, empty_and_merge) {
    histogram a, b;
    EXPECT_EQ(a.quantile(0.5), 0u);
    a.record(100);
    b.record(1'000'000, 3);
    a.merge(b);
    EXPECT_EQ(a.count(), 4u);
    EXPECT_GE(a.quantile(0.5), 1'000'000u);
    EXPECT_LE(a.quantile(0.1), 100u + 100 / 8);
}

TEST(introspect_histogram, recorder_snapshots_while_recording) {
    rt::detail::histogram_recorder rec;
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        std::uint64_t last = 0;
        while (!stop.load()) {
            auto h = rec.snapshot();
            EXPECT_GE(h.count(), last); // counts only grow
            last = h.count();
        }
    });
    for (std::uint64_t i = 1; i <= 200'000; ++i)
        rec.record(i % 5000);
    stop = true;
    reader.join();
    auto h = rec.snapshot();
    EXPECT_EQ(h.count(), 200'000u);
    EXPECT_EQ(h.max(), 4999u);
    EXPECT_GE(h.quantile(0.5), 2499u);
    EXPECT_LE(h.quantile(0.5), 2499u + 2499u / 8 + 1);
}

} // namespace
