// The I/O backends every net_/fs_/signal_ test runs against. Add a backend here and each
// parameterized suite runs on it too; a test fails if the runtime silently runs another one.
#pragma once

#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rt_test {

inline std::vector<rt::io_backend> io_backends() {
    return {rt::io_backend::epoll, rt::io_backend::io_uring};
}

class io_backend_test : public testing::TestWithParam<rt::io_backend> {
protected:
    rt::runtime make_runtime(std::size_t workers = 2) {
        auto r = rt::runtime::builder().worker_threads(workers).io_backend(GetParam()).build();
        EXPECT_EQ(r.io_backend(), GetParam());
        return r;
    }
};

inline std::string backend_name(const testing::TestParamInfo<rt::io_backend>& info) {
    return std::string(rt::to_string(info.param));
}

inline std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

inline std::string text(std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

} // namespace rt_test

#define RT_IO_BACKEND_SUITE(suite)                                                                 \
    INSTANTIATE_TEST_SUITE_P(backends, suite, testing::ValuesIn(rt_test::io_backends()),           \
                             rt_test::backend_name)

// ASSERT_* returns from the function, which a coroutine cannot: this one co_returns.
#define RT_CO_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ADD_FAILURE() << "assertion failed: " #cond;                                           \
            co_return;                                                                             \
        }                                                                                          \
    } while (0)
