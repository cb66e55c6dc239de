// The interface between the reactor thread and a kernel I/O backend (epoll now; io_uring later).
//
// Thread roles: `add`, `remove` and `unpark` are called from any thread; `wait` only from the
// reactor thread, which alternates between it and firing timers. A backend turns kernel events
// into task wakes (appended to `woken`, each with a reference and its strand already marked);
// the reactor queues them on the workers in one batch.
//
// Removal: after `remove` returns no new event names the registration, but the reactor may be
// handling one from a wait already in progress; so the backend frees it only at its next `wait`
// (or at destruction), when no event of an earlier wait is still being handled.
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
};

/// The epoll backend (io/backend/epoll.cpp). Throws std::system_error when it cannot start.
std::unique_ptr<io_driver> make_epoll_driver();
/// The io_uring backend (io/backend/uring.cpp). Throws std::system_error when the kernel or the
/// process's limits do not allow a ring.
std::unique_ptr<io_driver> make_uring_driver();

} // namespace rt::detail
