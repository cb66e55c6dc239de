// rt::spawn and rt::spawn_blocking: hand work to the runtime of the calling thread.
//
//     auto h = rt::spawn(serve(conn), {.name = "conn"});   // runs on the compute workers
//     auto b = rt::spawn_blocking([] { return read_config(); });  // runs on the blocking pool
//
// Both must be called from a thread of a runtime (a task, block_on, or a blocking call); from any
// other thread they throw std::runtime_error and the work is left untouched. The spawn's source
// location, name and the spawning task become part of the task's introspection record.
// spawn places the task at once in a run queue; it may start before spawn returns.
#pragma once

#include "rt/detail/context.hpp"
#include "rt/detail/result_storage.hpp"
#include "rt/task/join_handle.hpp"
#include "rt/task/task.hpp"

#include "rt/detail/source_location.hpp"
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>

namespace rt {

struct spawn_options {
    /// Shown in introspection and stall reports; copied, so a temporary string is fine.
    std::string_view name;
};

namespace detail {

void poll_async(task_header* t);
void destroy_async_body(task_header* t);

/// A spawned coroutine task: the header plus where its result waits for the join handle once the
/// frame is gone. It ran to the end (the result holds a value or an exception) when its outcome
/// says ok or failed.
template <class T>
struct async_task final : task_header {
    result_storage<T> result;

    static void finish_body(task_header* h) {
        auto* self = static_cast<async_task*>(h);
        auto frame = std::coroutine_handle<task_promise<T>>::from_address(h->frame.address());
        self->result.move_from(frame.promise().result());
        h->outcome =
            self->result.has_exception() ? task_outcome_code::failed : task_outcome_code::ok;
        h->frame = {};
        frame.destroy();
    }
    static void dealloc(task_header* h) {
        auto* self = static_cast<async_task*>(h);
        if (h->frame)
            h->frame.destroy();
        delete[] h->name;
        self->~async_task();
        frame_deallocate(self, sizeof(async_task));
    }
    static void* get_result(task_header* h) {
        auto* self = static_cast<async_task*>(h);
        const bool finished =
            h->outcome == task_outcome_code::ok || h->outcome == task_outcome_code::failed;
        return finished ? &self->result : nullptr;
    }
    static const await_record* await_root(const task_header* h) {
        if (!h->frame)
            return nullptr;
        return &std::coroutine_handle<task_promise<T>>::from_address(h->frame.address())
                    .promise()
                    .await_;
    }
    static constexpr task_vtable vtable{&poll_async, &destroy_async_body, &dealloc,
                                        &get_result, &finish_body,        &await_root};

    /// A header for `frame`, which it now owns.
    static async_task* make(std::coroutine_handle<task_promise<T>> frame) {
        auto* t = new (frame_allocate(sizeof(async_task))) async_task();
        t->frame = frame;
        t->root.leaf = frame;
        return t;
    }
};

/// Registers and schedules a new async task on `rt`; returns it with the join handle's ref.
task_header* spawn_async(runtime_impl& rt, task_header* t, const task_vtable* vt,
                         const spawn_options& opts, const rt::source_location& loc);

/// Blocking-task plumbing (runtime/src/sched/blocking_pool.cpp).
bool blocking_begin(task_header* t) noexcept;
void blocking_finish(task_header* t) noexcept;
void init_header(runtime_impl& rt, task_header* t, task_kind kind, const task_vtable* vt,
                 const spawn_options& opts, const rt::source_location& loc);
void submit_blocking(runtime_impl& rt, task_header* t);

template <class F, class R>
struct blocking_task final : task_header {
    explicit blocking_task(F&& f) : fn(std::move(f)) {}
    std::optional<F> fn;
    result_storage<R> result;
    bool ran = false;

    static void poll(task_header* h) {
        auto* self = static_cast<blocking_task*>(h);
        if (!blocking_begin(h))
            return;
        self->ran = true;
        try {
            if constexpr (std::is_void_v<R>) {
                std::invoke(*self->fn);
                self->result.set_value();
            } else {
                self->result.set_value(std::invoke(*self->fn));
            }
        } catch (...) {
            self->result.set_exception(std::current_exception());
        }
        self->fn.reset();
        if (self->result.has_exception())
            h->outcome = task_outcome_code::failed;
        blocking_finish(h);
    }
    static void destroy_body(task_header* h) { static_cast<blocking_task*>(h)->fn.reset(); }
    static void dealloc(task_header* h) {
        delete[] h->name; // the header owns it (init_header), as an async task's does
        delete static_cast<blocking_task*>(h);
    }
    static void* get_result(task_header* h) {
        auto* self = static_cast<blocking_task*>(h);
        return self->ran ? &self->result : nullptr;
    }
    static constexpr task_vtable vtable{&poll,       &destroy_body, &dealloc,
                                        &get_result, nullptr,       nullptr};
};

} // namespace detail

/// Spawns `t` onto the current runtime's workers and returns its handle.
template <class T>
join_handle<T> spawn(task<T>&& t, spawn_options opts = {},
                     rt::source_location loc = rt::source_location::current()) {
    detail::runtime_impl& rt = detail::current_runtime("rt::spawn");
    if (!t.valid())
        throw std::invalid_argument("rt::spawn: empty task");
    auto* cell = detail::async_task<T>::make(t.handle());
    t.release();
    detail::task_header* h = detail::spawn_async(rt, cell, &cell->vtable, opts, loc);
    return join_handle<T>(h);
}

/// Runs `f()` on the blocking pool; its result (or exception) is the handle's value.
template <class F, class R = std::invoke_result_t<std::decay_t<F>&>>
join_handle<R> spawn_blocking(F&& f, spawn_options opts = {},
                              rt::source_location loc = rt::source_location::current()) {
    using cell = detail::blocking_task<std::decay_t<F>, R>;
    detail::runtime_impl& rt = detail::current_runtime("rt::spawn_blocking");
    auto* t = new cell(std::decay_t<F>(std::forward<F>(f)));
    detail::init_header(rt, t, task_kind::blocking, &cell::vtable, opts, loc);
    detail::submit_blocking(rt, t);
    return join_handle<R>(t);
}

} // namespace rt
