// The interface between the reactor thread and a kernel I/O backend (epoll now; io_uring later).
//
// Thread roles: `add`, `remove` and `unpark` are called from any thread; `wait` only from the
// reactor thread, which alternates between it and firing timers. A backend turns kernel events
// into task wakes (appended to `woken`, each with a reference and its strand already marked);
// the reactor queues them on the workers in one batch.
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
#pragma once

#include "io/registration.hpp"
#include "rt/io/backend.hpp"

#include <ctime>
#include <memory>
#include <system_error>
#include <vector>

namespace rt::detail {

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
};

/// The epoll backend (io/backend/epoll.cpp). Throws std::system_error when it cannot start.
std::unique_ptr<io_driver> make_epoll_driver();
/// The io_uring backend (io/backend/uring.cpp). Throws std::system_error when the kernel or the
/// process's limits do not allow a ring.
std::unique_ptr<io_driver> make_uring_driver();

} // namespace rt::detail
