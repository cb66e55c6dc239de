// rt::task<T>: the lazy coroutine type of rt.
//
//     rt::task<int> answer() { co_return 42; }
//     rt::task<> caller() { int v = co_await answer(); }
//
// A task does nothing until it is awaited or spawned. Awaiting it runs it inside the awaiting
// task, on the same thread, and gives its value or rethrows its exception; completion transfers
// straight back to the awaiter (symmetric transfer), so long chains of synchronous completions
// use no stack. After `co_await` the awaiting coroutine resumes on whichever worker resumed the
// awaited one: rt tasks are not tied to a thread (use a local_set for that).
//
// Lambda coroutines: a lambda's captures live in the lambda object, not in the coroutine frame,
// so a capturing lambda coroutine that outlives the lambda reads freed memory.
//     BAD:  rt::spawn([&x]() -> rt::task<> { use(x); co_return; }());   // lambda dies at once
//     GOOD: rt::spawn([](int x) -> rt::task<> { use(x); co_return; }(x)); // parameters are copied
// Pass what the coroutine needs as parameters; they live in the frame.
#pragma once

#include "rt/detail/await_point.hpp"
#include "rt/detail/awaitable_traits.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/frame_alloc.hpp"
#include "rt/detail/result_storage.hpp"

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

namespace rt {

template <class T = void>
class task;

namespace detail {

template <class A>
inline constexpr bool is_task_v = false;
template <class U>
inline constexpr bool is_task_v<task<U>> = true;

/// The await_kind of a co_await on an rt::task of type A: its child is the awaited frame's own
/// record (the task object, which the record points to, lives until the await ends).
template <class A>
const await_record* awaited_task_record(const void* awaitable) noexcept;
template <class A>
inline constexpr await_kind task_await_kind{"task", nullptr, &awaited_task_record<A>};

/// Awaits *a in place (see task_promise_base::await_transform).
template <class A>
struct await_ref {
    A* a;
    bool await_ready() noexcept(noexcept(a->await_ready())) { return a->await_ready(); }
    template <class P>
    decltype(auto)
    await_suspend(std::coroutine_handle<P> h) noexcept(noexcept(a->await_suspend(h))) {
        return a->await_suspend(h);
    }
    decltype(auto) await_resume() noexcept(noexcept(a->await_resume())) {
        return a->await_resume();
    }
};

class task_promise_base {
public:
    std::suspend_always initial_suspend() noexcept { return {}; }

    /// Every co_await in a task passes through here: it notes what is awaited and where (the
    /// default argument is evaluated at the co_await), for introspection's await chains, and
    /// hands the awaitable on. See rt/detail/await_point.hpp.
    ///
    /// An awaiter without operator co_await is handed on through await_ref, a prvalue that points
    /// at it: g++ 12 copies an lvalue (and moves an xvalue) that await_transform returns into a
    /// temporary, which would await a copy (or not compile for move-only awaiters).
    template <class A>
    decltype(auto)
    await_transform(A&& a, rt::source_location where = rt::source_location::current()) noexcept {
        if constexpr (is_task_v<std::remove_cvref_t<A>>) {
            await_.kind = &task_await_kind<std::remove_cvref_t<A>>;
            await_.awaitable = &a;
            await_.where = where;
        } else {
            record_await(await_, a, where);
        }
        if constexpr (has_member_co_await<A> || has_free_co_await<A>)
            return static_cast<A&&>(a);
        else
            return await_ref<std::remove_reference_t<A>>{&a};
    }

    struct final_awaiter {
        bool await_ready() const noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            std::coroutine_handle<> next = h.promise().continuation_;
            if (!next)
                return std::noop_coroutine(); // a root: the poll loop sees done()
            if (tls.current != nullptr)
                tls.current->leaf = next;
            return next;
        }
        void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

    std::coroutine_handle<> continuation_;
    await_record await_; // where this frame is suspended (written by its own thread)
};

template <class T>
class task_promise final : public task_promise_base {
public:
    task<T> get_return_object() noexcept;
    template <class U = T>
    void return_value(U&& v) {
        result_.set_value(std::forward<U>(v));
    }
    void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
    result_storage<T>& result() noexcept { return result_; }

private:
    result_storage<T> result_;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
    task<void> get_return_object() noexcept;
    void return_void() noexcept { result_.set_value(); }
    void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
    result_storage<void>& result() noexcept { return result_; }

private:
    result_storage<void> result_;
};

} // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using handle_type = std::coroutine_handle<promise_type>;
    using value_type = T;

    task() noexcept = default;
    explicit task(handle_type h) noexcept : h_(h) {}
    task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    task& operator=(task&& o) noexcept {
        if (this != &o) {
            if (h_)
                h_.destroy();
            h_ = std::exchange(o.h_, {});
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() {
        if (h_)
            h_.destroy();
    }

    /// True when this object holds a coroutine (not moved from, not spawned).
    bool valid() const noexcept { return static_cast<bool>(h_); }

    struct awaiter {
        handle_type h;
        bool await_ready() const noexcept { return !h || h.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
            h.promise().continuation_ = parent;
            if (detail::tls.current != nullptr)
                detail::tls.current->leaf = h;
            return h;
        }
        T await_resume() {
            if (!h)
                throw std::logic_error("rt::task: awaited an empty task");
            return h.promise().result().take();
        }
    };
    awaiter operator co_await() & noexcept { return awaiter{h_}; }
    awaiter operator co_await() && noexcept { return awaiter{h_}; }

    /// Gives up ownership of the frame (used by spawn).
    handle_type release() noexcept { return std::exchange(h_, {}); }
    handle_type handle() const noexcept { return h_; }

private:
    handle_type h_;
};

namespace detail {
template <class A>
const await_record* awaited_task_record(const void* awaitable) noexcept {
    auto h = static_cast<const A*>(awaitable)->handle();
    return h ? &h.promise().await_ : nullptr;
}
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>{std::coroutine_handle<task_promise<T>>::from_promise(*this)};
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>{std::coroutine_handle<task_promise<void>>::from_promise(*this)};
}
} // namespace detail

} // namespace rt
