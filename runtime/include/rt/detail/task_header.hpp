// The header every spawned unit of work carries: a coroutine task, a blocking call, or the
// root of block_on. Schedulers, wakers, join handles and introspection all speak to it.
//
// State protocol (one 64-bit atomic word, `state`):
//   RUNNING    a thread is polling the task right now; only that thread resumes its frame.
//   NOTIFIED   the task is in (or on its way into) a run queue. The queue entry owns one reference.
//              A wake that finds RUNNING sets NOTIFIED without a reference: the polling thread
//              converts its own reference back into the queue's when the poll ends.
//   COMPLETE   the task finished (value, exception or cancellation); it never runs again.
//   CANCELLED  abort() was requested; the next poll destroys the frame instead of resuming it.
//   JOIN_WAKER the join handle stored a waker in `join_waker`; from then on the completing thread
//              owns that field. The joiner may withdraw only by clearing the bit before COMPLETE.
//   JOIN_WOKEN the completing thread finished waking the joiner; a joiner that is being destroyed
//              after COMPLETE waits for it, because the waker points into its frame.
//   refcount   the high bits. References: the task's own (dropped at completion), the join
//              handle's, and one per run-queue entry or wake in flight. The last one frees.
//
// A strand is a chain of coroutine frames that resume as one (a task awaiting a task awaiting a
// sleep). Each task has a root strand; select() gives each branch its own. A wake marks its strand
// and the strand's ancestors `ready`; a poll resumes only a strand that was marked, so a spurious
// queue entry never resumes a frame whose awaiter has not completed.
#pragma once

#include "rt/detail/atomic.hpp"

#include "rt/detail/await_point.hpp"
#include "rt/detail/source_location.hpp"
#include <coroutine>
#include <cstdint>

namespace rt {

/// Identifies a task for its whole life (and in introspection); never reused within a process.
using task_id = std::uint64_t;

/// What kind of work a header stands for.
enum class task_kind : std::uint8_t { async, blocking, local, block_on };

} // namespace rt

namespace rt::detail {

struct task_header;
class runtime_impl;

/// Something that can resume a strand in place of its leaf frame (a select in progress).
class strand_driver {
public:
    virtual void drive() = 0;

protected:
    ~strand_driver() = default;
};

/// A task-local binding made by task_local::scope on a strand (see rt/task/task_local.hpp).
struct local_binding {
    const void* key;
    void* value;
    local_binding* next;
};

struct strand {
    std::coroutine_handle<> leaf;
    strand* parent = nullptr;
    strand_driver* driver = nullptr;
    local_binding* locals = nullptr; // touched only by the thread resuming the strand
    atomic<bool> ready{false};

    /// Resumes this strand on the calling thread with it as the current strand.
    void resume();
    /// Marks this strand ready, and touches nothing else: once the store is visible the task may
    /// resume the strand and reuse its memory (and its parents'), so a walk up the chain after it
    /// could write into a reused frame or leave a stale mark that resumes the wrong awaiter.
    /// Ancestors need no mark: a strand with a driver (a pending select) is driven on every poll
    /// that reaches it. Only while the strand is known to be alive.
    void mark() noexcept { ready.store(true, memory_order_release); }
    /// Consumes a mark; true if there was one. Without a driver only the one suspended awaiter
    /// can mark the strand, so a load and a store suffice; a select's branches mark concurrently
    /// and need the exchange, or a mark landing between the two would be lost.
    bool take_ready() noexcept {
        if (driver != nullptr)
            return ready.exchange(false, memory_order_acq_rel);
        if (!ready.load(memory_order_acquire))
            return false;
        ready.store(false, memory_order_relaxed);
        return true;
    }
};

/// Where a woken task goes. Implemented by the runtime, block_on and the blocking pool.
class scheduler {
public:
    /// Takes ownership of one reference to `t`, whose NOTIFIED bit the caller just set.
    virtual void schedule(task_header* t) = 0;

protected:
    ~scheduler() = default;
};

struct task_vtable {
    /// Runs one poll of the task on the calling thread (NOTIFIED -> RUNNING -> ...).
    void (*poll)(task_header*);
    /// Destroys the task's frame or callable without completing it (cancellation, shutdown).
    void (*destroy_body)(task_header*);
    /// Frees the header and whatever it owns; called when the last reference goes.
    void (*dealloc)(task_header*);
    /// The task's result storage, or nullptr when the task was cancelled.
    void* (*result)(task_header*);
    /// The coroutine finished: keep its result and free the frame now, so its parameters and
    /// locals (a channel sender, say) go away when the task ends, not when the handle does.
    void (*finish_body)(task_header*);
    /// The root frame's await record (rt/detail/await_point.hpp), or nullptr (blocking work, or
    /// the frame is gone). Called only by a snapshot that has pinned the task (introspect/pin).
    /// A function rather than a header field: a million sleeping tasks carry a million headers.
    const await_record* (*await_root)(const task_header*);
};

/// Who to wake: a task and the strand inside it.
struct waker {
    task_header* task = nullptr;
    strand* target = nullptr;

    explicit operator bool() const noexcept { return task != nullptr; }
};

/// Per-task counters. Written by the thread polling the task, read by snapshots from anywhere.
/// Times are kept in cycle-counter ticks (cheap to read) and converted when reported. Fields
/// marked "poller" are written only by the thread that has the task RUNNING (plain load+store,
/// see bump()); task_header::last_wake_cycles by whoever wakes the task. With recording off
/// (runtime_builder::introspection(false)) none of them is written.
struct task_stats {
    /// Set in last_wake_cycles when the reactor made the wake (the next poll then measures the
    /// event-to-poll latency); the stamp loses its lowest four bits, a few cycles.
    static constexpr std::uint64_t reactor_wake = 1;
    /// Set in last_wake_cycles when the task woke itself (or yielded): the next poll is not
    /// counted as a wake from elsewhere.
    static constexpr std::uint64_t self_wake = 2;
    /// The wake was drawn for timing (runtime/src/task/sampling.hpp): its stamp is exact, and
    /// the poll it causes is timed and stands for poll_timing_sample polls.
    static constexpr std::uint64_t timed_sampled = 4;
    /// The wake came from a thread that times every poll: exact stamp, the poll stands for one.
    static constexpr std::uint64_t timed_exact = 8;
    static constexpr std::uint64_t wake_flags =
        reactor_wake | self_wake | timed_sampled | timed_exact;

    atomic<std::uint64_t> polls{0};            // poller
    atomic<std::uint64_t> busy_cycles{0};      // poller
    atomic<std::uint64_t> scheduled_cycles{0}; // poller: woken but not yet running
    atomic<std::uint64_t> self_wakes{0};       // poller: wakes from inside its own poll
    // Poller: polls that followed a self-wake. Every poll but the first follows a wake, so the
    // polls caused by wakes from elsewhere are polls - 1 - self_woken_polls (wakes()); counting
    // the rare kind keeps a store out of most polls.
    atomic<std::uint64_t> self_woken_polls{0};
    atomic<std::uint64_t> created_cycles{0};
    atomic<std::uint64_t> completed_cycles{0};
    atomic<std::uint64_t> poll_start_cycles{0}; // poller: when the current or last poll began
    atomic<std::uint64_t> poll_end_cycles{0};   // poller: when the last poll ended

    /// Polls caused by wakes from elsewhere (see self_woken_polls). Exact once the task is
    /// idle or finished; read while it is being polled, it may be one off.
    std::uint64_t wakes() const noexcept {
        std::uint64_t n = polls.load(memory_order_relaxed);
        std::uint64_t self = self_woken_polls.load(memory_order_relaxed);
        return n > self ? n - 1 - self : 0;
    }
};

/// How a finished task ended (task_header::outcome).
enum class task_outcome_code : std::uint8_t { none, ok, failed, cancelled };

struct task_header {
    static constexpr std::uint64_t running = 1u << 0;
    static constexpr std::uint64_t notified = 1u << 1;
    static constexpr std::uint64_t complete = 1u << 2;
    static constexpr std::uint64_t cancelled = 1u << 3;
    static constexpr std::uint64_t join_waker_set = 1u << 4;
    static constexpr std::uint64_t join_woken = 1u << 5;
    static constexpr std::uint64_t ref_one = 1u << 8;
    static constexpr std::uint64_t flags_mask = ref_one - 1;

    atomic<std::uint64_t> state{0};
    // When the task was last woken (task_stats' flag bits in the low bits); written by wakers.
    // Next to `state`, which every wake writes anyway: a wake from another core moves one cache
    // line, not two (headers are at least 16-byte aligned, so both share a line).
    atomic<std::uint64_t> last_wake_cycles{0};
    task_header* queue_next = nullptr; // intrusive link for the global queue and blocking queue
    const task_vtable* vtable = nullptr;
    scheduler* sched = nullptr;
    runtime_impl* sched_owner = nullptr; // whose task list holds it
    strand root;
    std::coroutine_handle<> frame; // the root coroutine frame; null for blocking work
    waker join_waker;

    // The runtime's list of live tasks (shutdown, introspection); guarded by its shard's lock.
    task_header* list_prev = nullptr;
    task_header* list_next = nullptr;

    task_id id = 0;
    task_id parent = 0;
    char* name = nullptr; // owned, nul-terminated; null when unnamed
    rt::source_location location;
    task_stats stats;
    atomic<std::uint32_t> last_worker{~0u}; // written by the poller
    task_kind kind = task_kind::async;
    bool record = true; // introspection on for this task's runtime; fixed at spawn
    // Written by the completing thread before COMPLETE is published; read after seeing COMPLETE.
    task_outcome_code outcome = task_outcome_code::none;
    // Poller: the last poll that resumed the task left it idle without taking a waker.
    atomic<bool> no_waker{false};

    std::uint64_t refs() const noexcept { return state.load(memory_order_acquire) / ref_one; }
};

// ---- transitions (runtime/src/task/header.cpp) ----

/// Adds a reference.
void ref_inc(task_header* t) noexcept;
/// Drops a reference; frees the task when it was the last.
void ref_dec(task_header* t) noexcept;
/// Wakes using a reference the caller owns (it is consumed).
void wake_by_val(task_header* t) noexcept;
/// Wakes without consuming anything.
void wake_by_ref(task_header* t) noexcept;
/// The first half of wake_by_val for callers that queue many tasks at once: true when the caller
/// must now queue `t` (the reference became the queue entry's); false when nothing is to be done.
bool wake_prepare_by_val(task_header* t) noexcept;
/// Marks w's strand ready and wakes its task. Only while w's strand is known to be alive.
void wake(const waker& w) noexcept;
/// Requests cancellation (join_handle::abort).
void request_abort(task_header* t) noexcept;

/// The waker for the strand running on this thread; throws std::logic_error outside a task.
waker current_waker();

} // namespace rt::detail
