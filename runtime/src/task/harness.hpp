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
void complete_task(task_header* t) noexcept;

/// Destroys an unfinished task's body and completes it as cancelled; caller has it RUNNING.
void cancel_task(task_header* t) noexcept;

} // namespace rt::detail
