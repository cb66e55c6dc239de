// rt::this_task: facts about the task the calling code runs in.
//
//     rt::task_id me = rt::this_task::id();   // equals the join_handle's id() and introspection's
#pragma once

#include "rt/detail/task_header.hpp"

#include <optional>

namespace rt::this_task {

/// The current task's id; throws std::logic_error outside a task.
task_id id();
/// The current task's id, or nullopt outside a task.
std::optional<task_id> try_id() noexcept;

} // namespace rt::this_task
