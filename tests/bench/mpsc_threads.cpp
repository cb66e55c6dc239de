// mpsc, threads baseline: the same program as mpsc_rt.cpp with one std::thread per producer, the
// consumer on the main thread, and the textbook bounded queue: a ring guarded by a std::mutex, a
// std::condition_variable for "not full" and one for "not empty".
//
// P producers (--producers, default 1) push N messages in all (--n, default 10,000,000) through a
// queue of --capacity slots (default 1,024); producer p sends (p << 40 | i) for i in [0, N/P) (the
// first N % P producers send one more); the consumer receives until every producer is done,
// checking per-producer order and the count. Reports msgs/s over the whole transfer (thread
// start to the last receive), CPU time and peak RSS. --threads is accepted and reported but the
// thread count is P + 1: that is what this baseline is.
#include "bench_common.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* impl = "threads";

// Bounded blocking queue; pop() gives nullopt once closed and drained.
template <class T>
class bounded_queue {
public:
    explicit bounded_queue(std::size_t capacity) : buf_(capacity) {}

    void push(T v) {
        std::unique_lock lock(mu_);
        not_full_.wait(lock, [&] { return size_ < buf_.size(); });
        buf_[(head_ + size_) % buf_.size()] = std::move(v);
        ++size_;
        lock.unlock();
        not_empty_.notify_one();
    }

    std::optional<T> pop() {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [&] { return size_ > 0 || closed_; });
        if (size_ == 0)
            return std::nullopt;
        T v = std::move(buf_[head_]);
        head_ = (head_ + 1) % buf_.size();
        --size_;
        lock.unlock();
        not_full_.notify_one();
        return v;
    }

    void close() {
        {
            std::lock_guard lock(mu_);
            closed_ = true;
        }
        not_empty_.notify_all();
    }

private:
    std::mutex mu_;
    std::condition_variable not_full_, not_empty_;
    std::vector<T> buf_;
    std::size_t head_ = 0, size_ = 0;
    bool closed_ = false;
};

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "producers", "capacity"});
    const std::uint64_t n = args.get("n", 10'000'000);
    const std::uint64_t producers = std::max<std::uint64_t>(1, args.get("producers", 1));
    const std::size_t capacity = std::max<std::uint64_t>(1, args.get("capacity", 1024));
    const unsigned threads = args.threads();
    const std::string name = "mpsc_" + std::to_string(producers) + "to1";
    bench::start_watchdog(name.c_str(), impl, args.timeout_s(300));

    bounded_queue<std::uint64_t> q(capacity);
    std::vector<std::uint64_t> next(producers, 0);
    std::uint64_t received = 0;
    bool in_order = true;
    bench::region r;
    r.start();
    std::vector<std::thread> ts;
    for (std::uint64_t p = 0; p < producers; ++p) {
        const std::uint64_t count = n / producers + (p < n % producers ? 1 : 0);
        ts.emplace_back([&q, p, count] {
            for (std::uint64_t i = 0; i < count; ++i)
                q.push((p << 40) | i);
        });
    }
    std::thread closer([&] {
        for (auto& t : ts)
            t.join();
        q.close();
    });
    while (auto m = q.pop()) {
        std::uint64_t p = *m >> 40, i = *m & ((std::uint64_t{1} << 40) - 1);
        in_order = in_order && p < producers && next[p] == i;
        if (p < producers)
            next[p] = i + 1;
        ++received;
    }
    r.stop();
    closer.join();

    if (received != n)
        bench::fail(name.c_str(), impl,
                    "received " + std::to_string(received) + " != " + std::to_string(n));
    if (!in_order)
        bench::fail(name.c_str(), impl, "a producer's messages arrived out of order");
    bench::json_line(name.c_str(), impl)
        .integer("n", n)
        .integer("producers", producers)
        .integer("capacity", capacity)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("msgs_per_s", double(n) / r.wall_s())
        .print();
}
