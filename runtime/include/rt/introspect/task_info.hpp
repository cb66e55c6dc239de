// rt::introspect::task_info: what a snapshot reports about one task, live or recently finished.
//
//     for (const auto& t : rt::introspect::snapshot().tasks)
//         if (t.state == rt::introspect::task_state::idle && !t.await_chain.empty())
//             std::printf("%llu %s waits in %s at %s:%u\n", t.id, t.name.c_str(),
//                         t.await_chain[0].what.c_str(), t.await_chain[0].file.c_str(),
//                         t.await_chain[0].line);
//
// Plain values, copied out of the runtime: keep them as long as you like. Durations are
// nanoseconds; times are steady_clock time points.
#pragma once

#include "rt/detail/task_header.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rt::introspect {

enum class task_state : std::uint8_t {
    idle,      // suspended, waiting for a wake
    scheduled, // woken (or new), waiting in a run queue
    running,   // being polled on a thread now
    done,      // finished; see task_info::outcome
};

enum class task_outcome : std::uint8_t { none, ok, failed, cancelled };

/// A place in the source: the compiler's __FILE__ form of the path, the line, the function.
struct location {
    std::string file;
    std::uint32_t line = 0;
    std::string function;
};

/// One await a task is suspended in; await_chain lists them innermost first.
struct await_point {
    std::string what; // "sleep", "join", "select", "notify::notified", "mpmc::recv", "task"...
    std::string file; // where the co_await is written
    std::uint32_t line = 0;
    std::string function;
    std::string detail; // e.g. the sleep's deadline, the joined task's id; may be empty
};

struct task_info {
    task_id id = 0; // equals join_handle::id() and this_task::id()
    std::string name;
    task_kind kind = task_kind::async;
    task_state state = task_state::idle;
    task_outcome outcome = task_outcome::none; // set when state is done
    std::uint64_t polls = 0;
    location spawn_location;
    task_id parent = 0; // the task that spawned it; 0 for none
    std::chrono::steady_clock::time_point created;
    std::optional<std::chrono::steady_clock::time_point> completed;
    std::chrono::nanoseconds busy{0};         // inside polls (estimated: see poll_timing_sample)
    std::chrono::nanoseconds scheduled{0};    // woken but not yet polled (estimated, as busy)
    std::chrono::nanoseconds idle{0};         // the rest of its life so far
    std::uint64_t wakes = 0;                  // by others
    std::uint64_t self_wakes = 0;             // by itself during its own poll (yields included)
    std::optional<std::uint32_t> last_worker; // compute worker index of its last poll
    std::vector<await_point> await_chain;     // empty unless idle (and recording is on)
    std::uint64_t version = 0; // last change, comparable with runtime_snapshot::version
};

} // namespace rt::introspect
