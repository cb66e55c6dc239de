// Running and finishing tasks: the poll step shared by workers and block_on, and completion.
// Protocol of the state word: rt/detail/task_header.hpp.
#pragma once

#include "rt/detail/task_header.hpp"

namespace rt::detail {

enum class poll_result {
    idle,     // suspended; the poller's reference is gone
    notified, // woken during the poll; the poller's reference now belongs to a run-queue entry
    complete, // finished or cancelled; the poller's reference is gone
};

/// One poll of a coroutine task whose NOTIFIED reference the caller holds.
poll_result poll_task(task_header* t) noexcept;

/// Marks `t` finished, wakes its joiner and drops the poller's and the task's own references.
/// The caller is the thread that has `t` RUNNING.
/// `now` is the cycle clock if the caller has just read it (0: read it here).
void complete_task(task_header* t, std::uint64_t now = 0) noexcept;

/// Destroys an unfinished task's body and completes it as cancelled; caller has it RUNNING.
void cancel_task(task_header* t) noexcept;

/// Introspection's pin: takes the RUNNING bit of an idle task, so no thread resumes, frees or
/// rewrites its frames until unpin(). Wakes meanwhile only set NOTIFIED. The caller holds a
/// reference; false (nothing taken) when the task is running, queued or finished.
bool try_pin(task_header* t) noexcept;
/// Releases a pin and the caller's reference (which becomes a run-queue entry if the task was
/// woken meanwhile).
void unpin(task_header* t) noexcept;
/// For cancellation at shutdown: sets RUNNING, waiting while a snapshot holds it; `prev` gets
/// the state before.
void acquire_for_cancel(task_header* t, std::uint64_t& prev) noexcept;

} // namespace rt::detail
