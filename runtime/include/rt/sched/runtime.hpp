// rt::runtime: the executor. Owns the compute workers (one per core by default), the reactor
// thread that drives timers, and the elastic blocking pool.
//
//     int main() {
//         auto rt = rt::runtime::builder().worker_threads(2).thread_name("app").build();
//         return rt.block_on(async_main());
//     }
//     // or, with every default:  int main() { return rt::run(async_main()); }
//
// block_on drives one root task on the calling thread until it finishes; tasks it spawns run on
// the workers. Destroying the runtime shuts it down: workers and the reactor stop, tasks that
// have not finished are cancelled (their frames destroyed on the destroying thread), blocking
// calls already running are waited for and queued ones dropped, and every thread is joined.
#pragma once

#include "rt/introspect/snapshot.hpp"
#include "rt/io/backend.hpp"
#include "rt/task/task.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rt {

namespace detail {
class runtime_impl;
}

class runtime;

/// Settings for a runtime; obtained from runtime::builder().
class runtime_builder {
public:
    /// Compute workers; 0 means one per core (the default).
    runtime_builder& worker_threads(std::size_t n) {
        worker_threads_ = n;
        return *this;
    }
    /// Cap on blocking-pool threads (default 512); calls beyond it queue.
    runtime_builder& max_blocking_threads(std::size_t n) {
        max_blocking_threads_ = n;
        return *this;
    }
    /// How long an idle blocking thread waits for work before it exits (default 10 s).
    runtime_builder& blocking_keep_alive(std::chrono::nanoseconds d) {
        blocking_keep_alive_ = d;
        return *this;
    }
    /// Prefix of thread names: "<prefix>-worker-N", "<prefix>-reactor", "<prefix>-blocking".
    runtime_builder& thread_name(std::string prefix) {
        thread_name_ = std::move(prefix);
        return *this;
    }
    /// The I/O backend of the reactor thread (default epoll). When io_uring cannot be set up,
    /// the runtime runs epoll and says so through on_log. See rt/io/backend.hpp.
    runtime_builder& io_backend(rt::io_backend b) {
        io_backend_ = b;
        return *this;
    }
    /// Receives the runtime's diagnostic messages (one line each, no newline): which priority the
    /// reactor thread got, which I/O backend runs. Called from the runtime's own threads, possibly
    /// concurrently with the caller; must not block. Default: none (the runtime is silent).
    runtime_builder& on_log(std::function<void(std::string_view)> f) {
        on_log_ = std::move(f);
        return *this;
    }
    /// Introspection recording (task counters, await chains, histograms, findings); on by
    /// default. Off, snapshots are empty and the hot paths skip every timestamp.
    runtime_builder& introspection(bool on) {
        introspection_ = on;
        return *this;
    }
    /// Finished tasks stay in snapshots for `keep` (default 5 s), at most about `max_count` of
    /// them (default 1000). Each worker keeps the newest records of the tasks that finish on it,
    /// and one more buffer those finishing on other threads, each max_count / (workers + 1)
    /// (rounded up): a worker that finishes most tasks keeps only its share.
    runtime_builder& retain_completed(std::chrono::nanoseconds keep, std::size_t max_count) {
        retain_for_ = keep;
        retain_max_ = max_count;
        return *this;
    }
    /// A poll longer than this is a stall (default 10 ms).
    runtime_builder& stall_threshold(std::chrono::nanoseconds d) {
        stall_threshold_ = d;
        return *this;
    }
    /// Workers time one poll in `one_in` (rounded up to a power of two; default 32, 1 = every
    /// poll), chosen at random, and weigh it by `one_in`: per-task busy and scheduled times, the
    /// worker busy time and the poll-duration, scheduling-delay and event-to-poll histograms are
    /// estimates from those samples. Poll, wake and steal counts stay exact, and stalls are
    /// caught by a watchdog whatever the sampling. A timed poll reads the clock three times (its
    /// wake, start and end), about as much as a short poll's whole bookkeeping, so timing every
    /// poll would make recording cost 15-25% on poll-heavy loads instead of a few percent. The
    /// price of sampling: a task's busy time over P polls of similar length is off by about
    /// sqrt(one_in / P) (18% after 1,000 polls, 2% after 100,000).
    runtime_builder& poll_timing_sample(std::uint32_t one_in) {
        poll_timing_sample_ = one_in;
        return *this;
    }
    /// Called as a stall happens, from the runtime's watchdog thread, while the stalling poll
    /// still runs: about one to 1.5 thresholds into it (the watchdog looks twice per
    /// threshold). block_on's own polls: on its thread, right after the poll. Must not block for
    /// long.
    runtime_builder& on_stall(std::function<void(const introspect::stall&)> f) {
        on_stall_ = std::move(f);
        return *this;
    }
    /// A task woken but not polled for longer than this is a finding (default 100 ms).
    runtime_builder& scheduled_threshold(std::chrono::nanoseconds d) {
        scheduled_threshold_ = d;
        return *this;
    }
    /// Starts the threads. Throws std::invalid_argument for settings that cannot work.
    runtime build();

    std::size_t worker_threads_ = 0;
    std::size_t max_blocking_threads_ = 512;
    std::chrono::nanoseconds blocking_keep_alive_ = std::chrono::seconds(10);
    std::string thread_name_ = "rt";
    rt::io_backend io_backend_ = rt::io_backend::epoll;
    std::function<void(std::string_view)> on_log_;
    bool introspection_ = true;
    std::chrono::nanoseconds retain_for_ = std::chrono::seconds(5);
    std::size_t retain_max_ = 1000;
    std::chrono::nanoseconds stall_threshold_ = std::chrono::milliseconds(10);
    std::uint32_t poll_timing_sample_ = 32;
    std::function<void(const introspect::stall&)> on_stall_;
    std::chrono::nanoseconds scheduled_threshold_ = std::chrono::milliseconds(100);
};

class runtime {
public:
    /// A runtime with every default (same as builder().build()).
    runtime();
    runtime(runtime&&) noexcept;
    runtime& operator=(runtime&&) noexcept;
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;
    ~runtime();

    static runtime_builder builder() { return {}; }

    /// Runs `t` on the calling thread until it finishes; returns its value or rethrows.
    /// Throws std::logic_error when called from inside a runtime.
    template <class T>
    T block_on(task<T> t) {
        if (!t.valid())
            throw std::invalid_argument("rt::runtime::block_on: empty task");
        drive(t.handle(), &t.handle().promise().await_);
        return t.handle().promise().result().take();
    }

    /// Number of compute workers.
    std::size_t worker_count() const noexcept;
    /// The I/O backend the reactor runs (epoll when io_uring was asked for but is unavailable).
    rt::io_backend io_backend() const noexcept;

    /// Introspection from outside the runtime (rt/introspect/snapshot.hpp); any thread.
    introspect::runtime_snapshot snapshot() const;
    introspect::runtime_snapshot snapshot_since(std::uint64_t version) const;
    std::optional<introspect::task_info> find_task(task_id id) const;

    /// For the library's own use (introspection, handles).
    detail::runtime_impl& impl() const noexcept { return *impl_; }

private:
    friend class runtime_builder;
    explicit runtime(const runtime_builder& b);
    void drive(std::coroutine_handle<> root, const detail::await_record* root_record);

    std::unique_ptr<detail::runtime_impl> impl_;
};

/// The equivalent of #[tokio::main]: a default runtime that runs `t` and is then shut down.
template <class T>
T run(task<T> t) {
    runtime r;
    return r.block_on(std::move(t));
}

} // namespace rt
