// A file descriptor registered with the reactor of the runtime that created it, and the awaiter
// that waits until the kernel says it is ready. The building block of every socket type.
//
// Protocol (the readiness loop every operation follows, as Tokio's):
//   1. `co_await src.ready(dir)` completes at once when the registration's readiness for `dir`
//      is set, else links a waiter and suspends until the reactor sets it. It returns a `tick`:
//      the count of readiness events seen when it was observed.
//   2. The operation then tries its non-blocking system call. On EAGAIN it calls
//      `clear_ready(dir, tick)`, which clears the readiness only if no event arrived since that
//      tick (an event in between would otherwise be lost under edge triggering), and loops.
// Nothing is read or written before the kernel reported readiness and the awaiting task resumed,
// so an awaiter destroyed while suspended (abort, timeout, select) consumed nothing; its
// destructor unlinks its waiter under the registration's lock, per rt/detail/waiter.hpp.
// Readiness for "closed" and "error" is never cleared: a call then returns EOF or the error.
//
// Lifetime: an io_source must be destroyed before its runtime (the runtime owns the reactor
// thread and the registration memory). Destroying it deregisters and closes the descriptor.
#pragma once

#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/io/io_result.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace rt::detail {

struct io_registration;

enum class io_direction : std::uint8_t { read = 0, write = 1 };

/// True when `dir` is ready; sets `tick` to the registration's event count.
bool io_poll_ready(io_registration* r, io_direction dir, std::uint64_t& tick) noexcept;
/// Links `w` unless `dir` became ready; false (nothing linked, tick set) when it is ready.
bool io_link_waiter(io_registration* r, io_direction dir, waiter& w, std::uint64_t& tick);
/// Unlinks `w` if it is still linked.
void io_unlink_waiter(io_registration* r, io_direction dir, waiter& w) noexcept;

class readiness_awaiter {
public:
    RT_AWAIT_POINT("io::readiness");
    readiness_awaiter(io_registration* r, io_direction dir) noexcept : reg_(r), dir_(dir) {}
    readiness_awaiter(readiness_awaiter&& o) noexcept : reg_(o.reg_), dir_(o.dir_) {}
    readiness_awaiter& operator=(readiness_awaiter&&) = delete;
    ~readiness_awaiter() {
        if (waiting_)
            io_unlink_waiter(reg_, dir_, w_);
    }

    bool await_ready() noexcept {
        if (!io_poll_ready(reg_, dir_, tick_))
            return false;
        if (coop_consume())
            return true;
        must_yield_ = true; // ready, but the task used its budget: run others first
        return false;
    }
    bool await_suspend(std::coroutine_handle<>) {
        if (must_yield_) {
            must_yield_ = false;
            yield_current();
            return true;
        }
        w_.w = current_waker();
        waiting_ = io_link_waiter(reg_, dir_, w_, tick_);
        return waiting_;
    }
    std::uint64_t await_resume() noexcept {
        if (waiting_) {
            // Woken: the reactor unlinked us; read the tick the wake was for.
            waiting_ = false;
            io_poll_ready(reg_, dir_, tick_);
        }
        return tick_;
    }

private:
    io_registration* reg_;
    io_direction dir_;
    waiter w_;
    std::uint64_t tick_ = 0;
    bool waiting_ = false;
    bool must_yield_ = false;
};

class io_source {
public:
    io_source() noexcept = default;
    /// Registers `fd` (already non-blocking) with the current runtime's reactor and takes it
    /// over; on failure `fd` is closed. Throws std::runtime_error outside a runtime.
    static io_result<io_source> adopt(int fd);

    io_source(io_source&& o) noexcept : fd_(o.fd_), reg_(o.reg_) {
        o.fd_ = -1;
        o.reg_ = nullptr;
    }
    io_source& operator=(io_source&& o) noexcept;
    io_source(const io_source&) = delete;
    io_source& operator=(const io_source&) = delete;
    ~io_source() { close(); }

    int fd() const noexcept { return fd_; }
    /// The reactor's record of the descriptor (for the completion-based operations).
    io_registration* registration() const noexcept { return reg_; }
    bool valid() const noexcept { return fd_ >= 0; }

    [[nodiscard("co_await it")]] readiness_awaiter ready(io_direction dir) const noexcept {
        return readiness_awaiter(reg_, dir);
    }
    /// After EAGAIN: forget readiness for `dir` unless an event came after `tick`.
    void clear_ready(io_direction dir, std::uint64_t tick) const noexcept;
    /// Declares that a read returning less than asked leaves nothing queued (a TCP stream: the
    /// kernel copies until the receive queue is empty) and a short write left no room, so
    /// clear_ready_if_short forgets readiness after one instead of a system call spent to hear
    /// EAGAIN. Not for datagram sockets (one datagram per read) nor Unix streams (a read stops
    /// at a message with other credentials or passed descriptors). Call before the source is
    /// shared with other threads.
    void set_drains_on_short_read() noexcept;
    /// After a read or write that moved `moved` of `asked` bytes (readiness seen at `tick`): on a
    /// source that drains on a short transfer, a short one clears readiness as EAGAIN would.
    void clear_ready_if_short(io_direction dir, std::uint64_t tick, std::size_t moved,
                              std::size_t asked) const noexcept;
    /// Deregisters and closes; idempotent.
    void close() noexcept;

private:
    int fd_ = -1;
    io_registration* reg_ = nullptr;
};

} // namespace rt::detail
