// rt::join_handle<T>: the owner's view of a spawned task, like std::thread's, but awaitable.
//
//     auto h = rt::spawn(work());
//     rt::expected<int, rt::join_error> r = co_await h;   // value, or cancelled / panic
//
// Not [[nodiscard]]: dropping a handle to detach is as common as in Tokio.
// Awaiting gives the task's value once (it is moved out); the handle stays valid for id(),
// is_finished() and abort(). Dropping the handle detaches the task: it keeps running. abort()
// cancels: a suspended task's frame is destroyed by the scheduler; a running one stops at its
// next await. A task that finished before the abort took effect keeps its value.
#pragma once

#include "rt/detail/context.hpp"
#include "rt/detail/result_storage.hpp"
#include "rt/detail/task_header.hpp"
#include "rt/expected.hpp"
#include "rt/task/join_error.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace rt {

namespace detail {

/// Registers/unregisters a joiner; the non-template half of join_handle's awaiter (header.cpp).
class join_wait {
public:
    /// True when the task completed (nothing registered); false when the waker was stored.
    static bool register_waker(task_header* t, const waker& w) noexcept;
    /// Withdraws a registered waker of an awaiter destroyed before it was woken.
    static void withdraw(task_header* t) noexcept;
};

} // namespace detail

template <class T>
class join_handle {
public:
    join_handle() noexcept = default;
    explicit join_handle(detail::task_header* t) noexcept : t_(t) {}
    join_handle(join_handle&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    join_handle& operator=(join_handle&& o) noexcept {
        if (this != &o) {
            reset();
            t_ = std::exchange(o.t_, nullptr);
        }
        return *this;
    }
    join_handle(const join_handle&) = delete;
    join_handle& operator=(const join_handle&) = delete;
    ~join_handle() { reset(); }

    task_id id() const noexcept { return t_ ? t_->id : 0; }

    // Await chains show `co_await handle` as "join" on the task's id.
    RT_AWAIT_POINT("join");
    void await_describe(std::string& out) const {
        out = "task " + std::to_string(id());
        if (t_ != nullptr && t_->kind == task_kind::blocking)
            out += " (blocking)";
    }
    bool is_finished() const noexcept {
        return t_ && (t_->state.load(detail::memory_order_acquire) & detail::task_header::complete);
    }
    void abort() const noexcept {
        if (t_)
            detail::request_abort(t_);
    }
    bool valid() const noexcept { return t_ != nullptr; }

    class awaiter {
    public:
        explicit awaiter(detail::task_header* t) noexcept : t_(t) {}
        awaiter(const awaiter&) = delete;
        awaiter& operator=(const awaiter&) = delete;
        ~awaiter() {
            if (registered_ && !resumed_)
                detail::join_wait::withdraw(t_);
        }
        bool await_ready() const noexcept {
            if (t_ == nullptr)
                return true;
            return (t_->state.load(detail::memory_order_acquire) & detail::task_header::complete) &&
                   detail::coop_consume();
        }
        bool await_suspend(std::coroutine_handle<>) {
            registered_ = !detail::join_wait::register_waker(t_, detail::current_waker());
            return registered_;
        }
        expected<T, join_error> await_resume() {
            resumed_ = true;
            if (t_ == nullptr)
                throw std::logic_error("rt::join_handle: awaited an empty handle");
            void* r = t_->vtable->result(t_);
            if (r == nullptr)
                return unexpected(join_error::cancelled());
            auto& res = *static_cast<detail::result_storage<T>*>(r);
            if (res.has_exception())
                return unexpected(join_error::panic(res.exception()));
            if (res.empty())
                throw std::logic_error("rt::join_handle: the result was already taken");
            if constexpr (std::is_void_v<T>) {
                return {};
            } else {
                T v = res.take();
                res.reset();
                return v;
            }
        }

    private:
        detail::task_header* t_;
        bool registered_ = false;
        bool resumed_ = false;
    };
    awaiter operator co_await() & noexcept { return awaiter{t_}; }
    awaiter operator co_await() && noexcept { return awaiter{t_}; }

    /// The task header; for the runtime and introspection.
    detail::task_header* header() const noexcept { return t_; }

private:
    void reset() noexcept {
        if (t_ != nullptr)
            detail::ref_dec(std::exchange(t_, nullptr));
    }
    detail::task_header* t_ = nullptr;
};

} // namespace rt
