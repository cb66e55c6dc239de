// The reactor thread's start-up report and the I/O backend choice.
#include <rt/rt.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct log_sink {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> lines;

    auto callback() {
        return [this](std::string_view line) {
            std::lock_guard lock(mu);
            lines.emplace_back(line);
            cv.notify_all();
        };
    }
    // Waits (bounded) for a line containing `what`.
    bool wait_for(std::string_view what) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, std::chrono::seconds(10), [&] {
            for (auto& l : lines)
                if (l.find(what) != std::string::npos)
                    return true;
            return false;
        });
    }
};

TEST(io_reactor, reports_the_priority_it_got_through_on_log) {
    log_sink sink;
    auto r = rt::runtime::builder().worker_threads(1).on_log(sink.callback()).build();
    // Every outcome names the real-time class it asked for first, and what it got instead.
    EXPECT_TRUE(sink.wait_for("SCHED_FIFO"));
    EXPECT_TRUE(sink.wait_for("I/O backend epoll"));
}

TEST(io_reactor, is_silent_without_a_log_callback_and_defaults_to_epoll) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    EXPECT_EQ(r.io_backend(), rt::io_backend::epoll);
}

TEST(io_reactor, io_uring_is_used_or_the_fallback_is_logged) {
    log_sink sink;
    auto r = rt::runtime::builder()
                 .worker_threads(1)
                 .io_backend(rt::io_backend::io_uring)
                 .on_log(sink.callback())
                 .build();
    if (r.io_backend() == rt::io_backend::io_uring) {
        EXPECT_TRUE(sink.wait_for("I/O backend io_uring"));
    } else {
        EXPECT_TRUE(sink.wait_for("io_uring unavailable"));
        EXPECT_TRUE(sink.wait_for("I/O backend epoll"));
    }
}

} // namespace
