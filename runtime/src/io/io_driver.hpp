// The interface between the reactor thread and a kernel I/O backend (epoll or io_uring).
//
// Thread roles: `add`, `remove`, `unpark`, `submit` and `cancel` are called from any thread;
// `wait` only from the reactor thread, which alternates between it and firing timers. A backend
// turns kernel events into task wakes (appended to `woken`, each with a reference and its strand
// already marked); the reactor queues them on the workers in one batch.
//
// Harvesting by workers (backends that support it, epoll): a worker that runs out of tasks takes
// ready events itself with `poll_ready`, which never blocks, so the tasks it wakes run on that
// worker with no hand-off between threads. While workers harvest, the reactor's wait stops
// watching the descriptors (after each batch it takes, `watching()` turns false), so events do
// not wake the reactor thread only to be handed to a worker that was about to look anyway.
// `rewatch` makes the wait watch them again: the reactor calls it when every worker is parked or
// no harvest happened for a while, and the last worker to park calls it too (see worker::park).
// Edge triggering hands each event to exactly one of the threads.
//
// Removal: after `remove` returns no new event names the registration, but the reactor or a
// harvesting worker may be handling one from a wait already in progress; so the backend frees it
// only at a later `wait` when no harvest is in progress (or at destruction), when no event of an
// earlier wait is still being handled.
//
// Completions (io_uring only, `completion_based()`): `submit` hands one operation to the kernel;
// its `ring_completion::complete` runs exactly once, on the reactor thread, with the result (a
// byte count or -errno). Whatever the operation reads or writes must stay alive until then, so
// its buffers belong to the completion object, never to an awaiting coroutine frame: a dropped
// await asks for `cancel` and leaves the object to the kernel until complete() has run.
#pragma once

#include "io/registration.hpp"
#include "rt/io/backend.hpp"

#include <cstdint>
#include <ctime>
#include <memory>
#include <system_error>
#include <vector>

namespace rt::detail {

struct ring_request {
    enum class opcode : std::uint8_t { recv, send, read, write, openat, statx, unlinkat, fsync };
    static constexpr int opcode_count = 8;
    opcode op = opcode::recv;
    int fd = -1;         // openat/statx/unlinkat: the directory (AT_FDCWD) or, with an
                         // empty path and AT_EMPTY_PATH, the file itself
    void* buf = nullptr; // statx: the struct statx the kernel fills
    std::uint32_t len = 0;
    std::uint64_t offset = 0;   // read/write: the file offset
    const char* path = nullptr; // openat/statx/unlinkat; must outlive the operation
    int flags = 0;              // openat: open(2) flags; statx/unlinkat: AT_* flags
    unsigned mode = 0;          // openat: the new file's mode
};

/// Ring operations by kind (zero on epoll), for introspection and tests.
struct io_driver_stats {
    std::uint64_t poll_events = 0;   // readiness events delivered to registrations (io_uring)
    std::uint64_t stream_reads = 0;  // RECV operations submitted
    std::uint64_t stream_writes = 0; // SEND/WRITE operations submitted for streams
    std::uint64_t file_reads = 0;    // READ operations submitted
    std::uint64_t file_writes = 0;   // WRITE operations submitted for files
    std::uint64_t file_opens = 0;    // OPENAT
    std::uint64_t file_stats = 0;    // STATX
    std::uint64_t file_unlinks = 0;  // UNLINKAT
    std::uint64_t file_syncs = 0;    // FSYNC
    std::uint64_t cancels = 0;       // cancellations asked for by dropped awaits
};

class io_driver {
public:
    virtual ~io_driver() = default;

    virtual rt::io_backend kind() const noexcept = 0;
    /// Creates a registration for `fd` and starts watching it (edge-triggered, both directions).
    virtual io_result<io_registration*> add(int fd) = 0;
    /// Stops watching; the registration must have no linked waiters. Call before closing fd.
    virtual void remove(io_registration* r) noexcept = 0;

    /// Reactor thread: waits until an event, an unpark, or `timeout` (null: no limit).
    virtual void wait(const timespec* timeout, std::vector<task_header*>& woken) = 0;
    /// Any thread: makes a wait in progress (or the next one) return at once.
    virtual void unpark() noexcept = 0;

    /// Any thread: takes the events ready now, without blocking, preparing their wakes as `wait`
    /// does. False when the backend leaves its events to the reactor thread alone.
    virtual bool poll_ready(std::vector<task_header*>& woken) {
        (void)woken;
        return false;
    }
    /// Whether the reactor's wait watches the descriptors (always, unless workers harvest).
    virtual bool watching() const noexcept { return true; }
    /// Any thread: makes the reactor's wait watch the descriptors again; cheap when it already
    /// does.
    virtual void rewatch() noexcept {}
    /// Calls of `poll_ready` so far (the reactor's sign that workers are still looking).
    virtual std::uint64_t harvests() const noexcept { return 0; }
    /// True when submit/cancel work (io_uring).
    virtual bool completion_based() const noexcept { return false; }
    /// Starts `req`; `c->complete` runs later on the reactor thread. When `c->owner` is set the
    /// caller holds `c->owner->mu`.
    virtual void submit(const ring_request& req, ring_completion* c) noexcept;
    /// Asks the kernel to cancel a submitted operation; complete() still runs (with -ECANCELED,
    /// or with the result if the operation finished first). Same locking rule as submit.
    virtual void cancel(ring_completion* c) noexcept;
    virtual io_driver_stats stats() const noexcept { return {}; }
};

/// The epoll backend (io/backend/epoll.cpp). Throws std::system_error when it cannot start.
std::unique_ptr<io_driver> make_epoll_driver();
/// The io_uring backend (io/backend/uring.cpp). Throws std::system_error when the kernel or the
/// process's limits do not allow a ring.
std::unique_ptr<io_driver> make_uring_driver();

} // namespace rt::detail
