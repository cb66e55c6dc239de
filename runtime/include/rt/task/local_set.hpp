// rt::local_set: tasks that stay on one thread, so they may hold thread-affine data.
//
//     rt::local_set set;
//     auto counter = std::make_shared<int>(0);          // no synchronisation needed
//     for (int i = 0; i < 100; ++i)
//         set.spawn_local([](std::shared_ptr<int> c) -> rt::task<> { ++*c; co_return; }(counter));
//     co_await set;                                      // runs until all of them finish
//
// Local tasks run only while the set is driven, on the driving thread: `co_await set` (until every
// task of the set finished) or `co_await set.run_until(t)` (until `t`, spawned into the set,
// finished; gives its value). The driver must be block_on's task (or another task that never
// moves between threads): awaiting a set from a task on the worker pool throws std::logic_error,
// since a worker task may resume on another thread. Local tasks may sleep, wait on channels and
// spawn ordinary tasks; wakes from any thread queue them on the set and wake its driver.
// Destroying the set cancels its unfinished tasks (their frames are destroyed on that thread).
#pragma once

#include "rt/detail/task_header.hpp"
#include "rt/task/join_handle.hpp"
#include "rt/task/spawn.hpp"
#include "rt/task/task.hpp"

#include "rt/detail/source_location.hpp"
#include <memory>

namespace rt {

namespace detail {

class local_scheduler;

/// Drives a local set from the awaiting strand; stops when `until` completes, or when the set
/// has no unfinished task if `until` is null.
class local_drive final : strand_driver {
public:
    RT_AWAIT_POINT("local_set::run");
    local_drive(local_scheduler& s, task_header* until) noexcept : sched_(s), until_(until) {}
    local_drive(local_drive&& o) noexcept : sched_(o.sched_), until_(o.until_) {}
    local_drive(const local_drive&) = delete;
    local_drive& operator=(const local_drive&) = delete;
    ~local_drive();

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> parent);
    void await_resume() const noexcept {}

private:
    void drive() override;
    bool run_and_park(); // true when finished

    local_scheduler& sched_;
    task_header* until_;
    strand* home_ = nullptr;
    std::coroutine_handle<> parent_;
    bool parked_ = false;
};

task_header* spawn_local_task(local_scheduler& s, task_header* t, const task_vtable* vt,
                              const spawn_options& opts, const rt::source_location& loc);

} // namespace detail

class local_set {
public:
    RT_AWAIT_POINT("local_set"); // `co_await set` in await chains
    local_set();
    ~local_set();
    local_set(const local_set&) = delete;
    local_set& operator=(const local_set&) = delete;

    /// Adds `t` to the set; it runs when the set is driven.
    template <class T>
    join_handle<T> spawn_local(task<T>&& t, spawn_options opts = {},
                               rt::source_location loc = rt::source_location::current()) {
        if (!t.valid())
            throw std::invalid_argument("rt::local_set::spawn_local: empty task");
        detail::current_runtime("rt::local_set::spawn_local"); // throws before taking the frame
        return join_handle<T>(detail::spawn_local_task(*impl_, make_cell(std::move(t)),
                                                       &detail::async_task<T>::vtable, opts, loc));
    }

    /// Runs the set until every task in it has finished.
    [[nodiscard("co_await it")]] detail::local_drive operator co_await() {
        return detail::local_drive(*impl_, nullptr);
    }

    /// Spawns `t` into the set and runs the set until `t` finishes; gives `t`'s value (or
    /// rethrows). Other local tasks keep their progress and run again at the next drive.
    template <class T>
    [[nodiscard("co_await it")]] task<T> run_until(task<T> t) {
        auto h = spawn_local(std::move(t));
        return run_until_impl(impl_.get(), std::move(h));
    }

    /// Unfinished tasks in the set.
    std::size_t size() const noexcept;

private:
    template <class T>
    static detail::task_header* make_cell(task<T>&& t) {
        auto* cell = detail::async_task<T>::make(t.handle());
        t.release();
        return cell;
    }

    template <class T>
    static task<T> run_until_impl(detail::local_scheduler* s, join_handle<T> h) {
        co_await detail::local_drive(*s, h.header());
        auto r = co_await h;
        if (!r)
            r.error().rethrow();
        if constexpr (!std::is_void_v<T>)
            co_return std::move(*r);
    }

    std::unique_ptr<detail::local_scheduler> impl_;
};

} // namespace rt
