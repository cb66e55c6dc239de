// The reactor's record of one registered file descriptor: its readiness and the tasks waiting
// for it, one queue per direction.
//
// Protocol: `mu` guards every field but `fd` and `driver` (fixed at creation). Tasks read and
// clear readiness and link waiters (rt/detail/io_source.hpp); the reactor thread, on an event,
// sets readiness, bumps `tick`, unlinks every waiter of a direction that became ready, marks its
// strand and references its task under the lock, and queues the tasks after it (one batch per
// loop). A removed registration is freed by the backend only once the reactor thread can no
// longer hold it from an earlier wait (see io_driver::remove).
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/io_source.hpp"
#include "rt/detail/waiter.hpp"

#include <cstdint>
#include <vector>

namespace rt::detail {

class io_driver;

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
    bool removing = false; // backends that free asynchronously (io_uring): under their lock

    /// Readiness bits for poll(2)/epoll event bits (the two share values).
    static std::uint32_t from_poll_events(std::uint32_t ev) noexcept;

    /// Reactor thread: records `bits` and prepares the wakes of every waiter they satisfy.
    void set_ready(std::uint32_t bits, std::vector<task_header*>& woken);
};

} // namespace rt::detail
