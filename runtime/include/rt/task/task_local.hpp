// rt::task_local<T> and RT_TASK_LOCAL: values that belong to a task, like thread_local for tasks.
//
//     RT_TASK_LOCAL(std::string, REQUEST_ID);
//     rt::task<> handle() { log(REQUEST_ID.get()); co_return; }
//     co_await REQUEST_ID.scope("r-42", handle());
//
// scope(value, task) runs `task` with the value bound; code it awaits (directly or through nested
// tasks and select branches) sees it through get() (a copy) or with(f) (f gets a reference),
// on whichever worker it resumes. Other tasks never see it, including tasks spawned from inside
// the scope (as with Tokio). Scopes nest: the innermost binding wins. Using the value outside any
// scope throws std::logic_error naming the variable.
//
// Protocol: a binding is pushed on the strand that is running when the scope starts and popped
// when the scope's frame ends (normally or by cancellation). A strand is resumed by one thread at
// a time, so its list needs no lock; lookups walk the current strand, then its parents.
#pragma once

#include "rt/detail/context.hpp"
#include "rt/task/task.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace rt {

template <class T>
class task_local {
public:
    explicit constexpr task_local(const char* name) noexcept : name_(name) {}
    task_local(const task_local&) = delete;
    task_local& operator=(const task_local&) = delete;

    /// Runs `inner` with this variable bound to `value`; gives what `inner` gives.
    template <class R>
    [[nodiscard("co_await it")]] task<R> scope(T value, task<R> inner) const {
        return run_scope(this, std::move(value), std::move(inner));
    }

    /// A copy of the bound value.
    T get() const { return *find(); }

    /// Calls f with a reference to the bound value and gives f's result.
    template <class F>
    decltype(auto) with(F&& f) const {
        return std::forward<F>(f)(*find());
    }

    /// The bound value, or nullptr outside a scope.
    T* try_get() const noexcept {
        for (detail::strand* s = detail::tls.current; s != nullptr; s = s->parent)
            for (detail::local_binding* b = s->locals; b != nullptr; b = b->next)
                if (b->key == this)
                    return static_cast<T*>(b->value);
        return nullptr;
    }

    const char* name() const noexcept { return name_; }

private:
    T* find() const {
        if (T* v = try_get())
            return v;
        throw std::logic_error(std::string("rt::task_local ") + name_ +
                               " used outside of its scope");
    }

    // Pushes the binding for the life of the frame; popping restores the previous head.
    class binding_guard {
    public:
        binding_guard(const void* key, void* value)
            : strand_(detail::tls.current), node_{key, value, nullptr} {
            if (strand_ == nullptr)
                throw std::logic_error("rt::task_local::scope awaited outside of an rt task");
            node_.next = strand_->locals;
            strand_->locals = &node_;
        }
        binding_guard(const binding_guard&) = delete;
        binding_guard& operator=(const binding_guard&) = delete;
        ~binding_guard() { strand_->locals = node_.next; }

    private:
        detail::strand* strand_;
        detail::local_binding node_;
    };

    template <class R>
    static task<R> run_scope(const task_local* self, T value, task<R> inner) {
        binding_guard guard(self, &value);
        co_return co_await std::move(inner);
    }

    const char* name_;
};

} // namespace rt

/// Declares a task-local variable NAME of type T (at namespace scope).
#define RT_TASK_LOCAL(T, NAME)                                                                     \
    inline ::rt::task_local<T> NAME {                                                              \
#NAME                                                                                      \
    }
