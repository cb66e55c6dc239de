// The Boost.Asio side of the comparison: a join handle for co_spawn'ed awaitables, a one-value
// mailbox (ping-pong), and the harness that runs a root awaitable on an io_context driven by N
// threads.
//
// Boost 1.74 (Debian 12) has no experimental::promise, parallel_group or channel, and
// `co_spawn(ex, a, use_awaitable)` only starts the child when it is awaited, so "spawn now, join
// later" needs a small piece of glue. spawn() below is what an Asio user would write for it:
// co_spawn with a completion handler that stores the result in a shared state (one allocation,
// like rt's task/join state); join() returns at once if the child is done, and otherwise parks
// the joiner's completion handler, which the child's completion *posts* back to the joiner's
// executor (rt's join handle also reschedules the joiner rather than resuming it inline). join()
// is itself an awaitable, so each join costs one more (thread-locally recycled) Asio frame.
//
// run() drives the io_context with N threads, the calling one included, and the root awaitable
// runs on them like any task; rt's programs instead drive their root with block_on on the main
// thread next to N workers (the shape of the book's programs).
#pragma once

#include "bench_common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace bench::asio {

namespace net = boost::asio;
using net::awaitable;
using net::use_awaitable;

// A parked coroutine's completion handler, type-erased: wake() posts it back to the executor it
// is associated with (the coroutine's), so the waker never resumes it inline. Shared by the join
// handle and the mailbox.
struct waiter_base {
    virtual ~waiter_base() = default;
    virtual void wake() = 0;
};
template <class Handler>
struct waiter final : waiter_base {
    explicit waiter(Handler&& h) : handler(std::move(h)) {}
    void wake() override {
        auto ex = net::get_associated_executor(handler);
        net::post(ex, std::move(handler));
    }
    Handler handler;
};

template <class T>
class join_handle {
    using value_type = std::conditional_t<std::is_void_v<T>, bool, T>;

    struct state {
        std::mutex mutex;
        bool done = false;
        std::optional<value_type> value;
        std::exception_ptr error;
        std::unique_ptr<waiter_base> joiner;

        void complete(std::exception_ptr e, std::optional<value_type> v) {
            std::unique_ptr<waiter_base> w;
            {
                std::lock_guard lock(mutex);
                error = std::move(e);
                value = std::move(v);
                done = true;
                w = std::move(joiner);
            }
            if (w)
                w->wake();
        }
    };

public:
    join_handle() = default;

    // Starts `a` on `ex` now; the handle joins it.
    template <class Executor>
    static join_handle spawn(const Executor& ex, awaitable<T> a) {
        join_handle h;
        h.state_ = std::make_shared<state>();
        if constexpr (std::is_void_v<T>) {
            net::co_spawn(ex, std::move(a),
                          [s = h.state_](std::exception_ptr e) { s->complete(e, true); });
        } else {
            net::co_spawn(ex, std::move(a), [s = h.state_](std::exception_ptr e, T v) {
                s->complete(e, std::move(v));
            });
        }
        return h;
    }

    // Waits for the child; returns its value or rethrows its exception.
    awaitable<T> join() {
        std::shared_ptr<state> s = state_;
        bool done;
        {
            std::lock_guard lock(s->mutex);
            done = s->done;
        }
        if (!done) {
            // The initiation captures a raw pointer (`s` keeps the state alive). With a shared_ptr
            // capture, GCC 12 + Asio 1.74 drop one reference too many (use-after-free under ASan,
            // fine with clang): chriskohlhoff/asio#1007, "co_await async_initiate on gcc".
            co_await net::async_initiate<decltype(use_awaitable), void()>(
                [st = s.get()](auto handler) {
                    using handler_t = decltype(handler);
                    std::unique_lock lock(st->mutex);
                    if (st->done) { // completed between the check and the initiation
                        lock.unlock();
                        waiter<handler_t>(std::move(handler)).wake();
                        return;
                    }
                    st->joiner = std::make_unique<waiter<handler_t>>(std::move(handler));
                },
                use_awaitable);
        }
        if (s->error)
            std::rethrow_exception(s->error);
        if constexpr (!std::is_void_v<T>)
            co_return std::move(*s->value);
    }

private:
    std::shared_ptr<state> state_;
};

template <class T, class Executor>
join_handle<T> spawn(const Executor& ex, awaitable<T> a) {
    return join_handle<T>::spawn(ex, std::move(a));
}

// A one-value mailbox between two coroutines (Boost 1.74 has no channel): send() leaves a value
// and, when the receiver is parked, posts its completion handler back to its executor, as the
// join handle does; recv() takes the value at once if there is one, else parks. No back
// pressure: it serves a strict ping-pong, where each side sends only after its reply came, so a
// second value never waits. One receiver at a time.
template <class T>
class mailbox {
public:
    void send(T v) {
        std::unique_ptr<waiter_base> w;
        {
            std::lock_guard lock(mutex_);
            value_ = std::move(v);
            w = std::move(receiver_);
        }
        if (w)
            w->wake();
    }

    awaitable<T> recv() {
        {
            std::lock_guard lock(mutex_);
            if (value_)
                co_return take();
        }
        // A raw `this` capture, as in join_handle::join (GCC 12 + Asio 1.74, asio#1007).
        co_await net::async_initiate<decltype(use_awaitable), void()>(
            [self = this](auto handler) {
                using handler_t = decltype(handler);
                std::unique_lock lock(self->mutex_);
                if (self->value_) { // sent between the check and the initiation
                    lock.unlock();
                    waiter<handler_t>(std::move(handler)).wake();
                    return;
                }
                self->receiver_ = std::make_unique<waiter<handler_t>>(std::move(handler));
            },
            use_awaitable);
        std::lock_guard lock(mutex_);
        co_return take();
    }

private:
    T take() {
        T v = std::move(*value_);
        value_.reset();
        return v;
    }

    std::mutex mutex_;
    std::optional<T> value_;
    std::unique_ptr<waiter_base> receiver_;
};

// Runs `root` on an io_context driven by `threads` threads (this one included) until it and all
// it spawned are done. An exception escaping the root is reported through bench::fail.
inline void run(const char* bench_name, unsigned threads, awaitable<void> root) {
    net::io_context ctx(static_cast<int>(threads));
    std::exception_ptr error;
    net::co_spawn(ctx, std::move(root), [&error](std::exception_ptr e) { error = e; });
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i)
        pool.emplace_back([&ctx] { ctx.run(); });
    ctx.run();
    for (auto& t : pool)
        t.join();
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            bench::fail(bench_name, "asio", e.what());
        } catch (...) {
            bench::fail(bench_name, "asio", "unknown exception");
        }
    }
}

} // namespace bench::asio
