// mpmc, threads baseline: the same program as mpmc_rt.cpp with one std::thread per producer and
// per consumer around the textbook bounded queue: a ring guarded by a std::mutex, a
// std::condition_variable for "not full" and one for "not empty", closed when the producers end.
//
// P producers (--producers, default 4) push N messages in all (--n, default 10,000,000) through a
// queue of --capacity slots (default 1,024) to C consumers (--consumers, default 4); producer p
// sends (p << 40 | i) for i in [0, N/P) (the first N % P producers send one more); each consumer
// receives until the queue is closed and drained, counting and summing; the totals are checked.
// Reports msgs/s over the whole transfer (thread start to the last consumer's end), CPU time and
// peak RSS. --threads is accepted and reported but the thread count is P + C: that is what this
// baseline is.
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

struct part {
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
};

} // namespace

int main(int argc, char** argv) {
    bench::args args(argc, argv, {"n", "producers", "consumers", "capacity"});
    const std::uint64_t n = args.get("n", 10'000'000);
    const std::uint64_t producers = std::max<std::uint64_t>(1, args.get("producers", 4));
    const std::uint64_t consumers = std::max<std::uint64_t>(1, args.get("consumers", 4));
    const std::size_t capacity = std::max<std::uint64_t>(1, args.get("capacity", 1024));
    const unsigned threads = args.threads();
    const std::string name = "mpmc_" + std::to_string(producers) + "to" + std::to_string(consumers);
    bench::start_watchdog(name.c_str(), impl, args.timeout_s(300));

    bounded_queue<std::uint64_t> q(capacity);
    std::vector<part> parts(consumers);
    bench::region r;
    r.start();
    std::vector<std::thread> cs, ps;
    for (std::uint64_t c = 0; c < consumers; ++c) {
        cs.emplace_back([&q, out = &parts[c]] {
            while (auto m = q.pop()) {
                ++out->count;
                out->sum += *m;
            }
        });
    }
    for (std::uint64_t p = 0; p < producers; ++p) {
        const std::uint64_t count = n / producers + (p < n % producers ? 1 : 0);
        ps.emplace_back([&q, p, count] {
            for (std::uint64_t i = 0; i < count; ++i)
                q.push((p << 40) | i);
        });
    }
    for (auto& t : ps)
        t.join();
    q.close();
    for (auto& t : cs)
        t.join();
    r.stop();

    part got;
    for (const auto& p : parts) {
        got.count += p.count;
        got.sum += p.sum;
    }
    std::uint64_t want = 0;
    for (std::uint64_t p = 0; p < producers; ++p) {
        const std::uint64_t count = n / producers + (p < n % producers ? 1 : 0);
        want += (p << 40) * count + count * (count - 1) / 2;
    }
    if (got.count != n || got.sum != want)
        bench::fail(name.c_str(), impl,
                    "received " + std::to_string(got.count) + " messages (want " +
                        std::to_string(n) + "), sum " + std::to_string(got.sum) + " (want " +
                        std::to_string(want) + ")");
    bench::json_line(name.c_str(), impl)
        .integer("n", n)
        .integer("producers", producers)
        .integer("consumers", consumers)
        .integer("capacity", capacity)
        .integer("threads", threads)
        .num("wall_s", r.wall_s())
        .num("cpu_s", r.cpu_s())
        .num("msgs_per_s", double(n) / r.wall_s())
        .print();
}
