// The reactor's record of one registered file descriptor: its readiness and the tasks waiting
// for it, one queue per direction.
//
// Protocol: `mu` guards every field but `fd` and `driver` (fixed at creation). Tasks read and
// clear readiness and link waiters (rt/detail/io_source.hpp); the reactor thread, on an event,
// sets readiness, bumps `tick`, unlinks every waiter of a direction that became ready, marks its
// strand and references its task under the lock, and queues the tasks after it (one batch per
// loop). A removed registration is freed by the backend only once the reactor thread can no
// longer hold it from an earlier wait (see io_driver::remove).
//
// Completion backends (io_uring) add one `stream_op` per direction, also under `mu`. `busy` is
// set when an operation is submitted and cleared by its completion on the reactor thread; while
// it is set the kernel owns `buf`, and no other read (or write) may start on the stream: that is
// how the next operation waits for a cancelled one, and why bytes never arrive out of order.
// A read's bytes land in `buf` and stay there as the stash (`stash_off`, `stash_len`) until a
// read takes them, so a read whose await was dropped loses nothing. `ring_refs` counts the ring
// operations (the poll included) that still name this registration; a removed registration is
// freed when it reaches zero.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/io_source.hpp"
#include "rt/detail/waiter.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace rt::detail {

class io_driver;
struct io_registration;

/// One operation on the ring (io/io_driver.hpp, submit). `owner` is set for a registration's
/// stream operations: the backend keeps that registration alive (`ring_refs`) until complete()
/// has run.
struct ring_completion {
    io_registration* owner = nullptr;
    // Stored (release) by submit before the kernel sees the address, loaded (acquire) by the
    // reactor before it touches the object: the kernel orders the two, sanitizers cannot see it.
    atomic<std::uint32_t> published{0};
    /// Reactor thread, once per submit: `res` is the CQE's result (bytes, or -errno).
    virtual void complete(int res, std::vector<task_header*>& woken) = 0;

protected:
    ~ring_completion() = default;
};

/// A waiter for a ring operation's completion: `res` and `done` are written under the
/// registration's lock by the completion.
struct op_waiter {
    waiter w;
    int res = 0;
    bool done = false;
};

/// Reactor thread, under the lock that keeps `w` alive: unlinked already; marks and references
/// its task and appends it to `woken`.
void prepare_io_wake(waiter* w, std::vector<task_header*>& woken);

/// The ring operation of one direction of a stream (see the protocol above).
struct stream_op final : ring_completion {
    io_direction dir = io_direction::read;
    bool busy = false;
    op_waiter* awaiting = nullptr; // the await that submitted the operation; null once dropped
    waiter_queue idle;             // operations waiting for `busy` to clear
    std::unique_ptr<std::byte[]> buf;
    std::size_t cap = 0;
    std::size_t stash_off = 0; // read: bytes received for no one, buf[stash_off, +stash_len)
    std::size_t stash_len = 0;

    void complete(int res, std::vector<task_header*>& woken) override;
    /// Under the lock, not busy: makes `buf` hold at least `n` bytes.
    void reserve(std::size_t n);
};

struct io_registration {
    // Readiness bits.
    static constexpr std::uint32_t readable = 1u << 0;
    static constexpr std::uint32_t writable = 1u << 1;
    static constexpr std::uint32_t read_closed = 1u << 2;
    static constexpr std::uint32_t write_closed = 1u << 3;
    static constexpr std::uint32_t error = 1u << 4;

    static constexpr std::uint32_t mask(io_direction d) noexcept {
        return d == io_direction::read ? readable | read_closed | error
                                       : writable | write_closed | error;
    }

    int fd = -1;
    io_driver* driver = nullptr;
    mutex mu;
    std::uint32_t ready = 0;
    std::uint64_t tick = 0;
    waiter_queue waiters[2];
    io_registration* retired_next = nullptr; // the backend's list of removed registrations
    // Set (release) before the backend hands the pointer to the kernel and read (acquire) by the
    // reactor before it touches the registration: the kernel orders the two, but sanitizers
    // cannot see through it.
    atomic<bool> published{false};
    bool removing = false;             // backends that free asynchronously (io_uring): under `mu`
    bool drains_on_short_read = false; // io_source::set_drains_on_short_read; set before sharing
    std::uint32_t ring_refs = 0;       // io_uring: operations in flight naming this; under `mu`
    atomic<bool> not_socket{false};    // io_uring: not a socket, so streams use readiness
    stream_op ops[2];                  // io_uring: indexed by io_direction; under `mu`

    io_registration() noexcept {
        for (int d = 0; d < 2; ++d) {
            ops[d].owner = this;
            ops[d].dir = static_cast<io_direction>(d);
        }
    }
    io_registration(const io_registration&) = delete;
    io_registration& operator=(const io_registration&) = delete;

    /// Readiness bits for poll(2)/epoll event bits (the two share values).
    static std::uint32_t from_poll_events(std::uint32_t ev) noexcept;

    /// Reactor thread: records `bits` and prepares the wakes of every waiter they satisfy.
    void set_ready(std::uint32_t bits, std::vector<task_header*>& woken);
};

} // namespace rt::detail
