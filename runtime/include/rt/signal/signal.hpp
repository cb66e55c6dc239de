// rt::signal: await Unix signals (SIGINT, SIGTERM, SIGHUP, SIGUSR1...) in tasks.
//
//     co_await rt::signal::ctrl_c();                       // the next SIGINT
//
//     auto term = rt::signal::listener::listen(SIGTERM);   // counting starts here
//     for (;;) { co_await term->recv(); reload(); }        // every delivery, none missed
//
// How: the first listen() for a signal installs a process-wide handler for it (sigaction,
// SA_RESTART) that counts the delivery and writes to one eventfd, which every listener watches
// through its runtime's reactor. From then on, for the life of the process, that signal no longer
// has its default effect (SIGINT no longer kills the process); rt never uninstalls the handler,
// as Tokio does not. No signal mask is changed: a handler works whichever thread the kernel
// picks, including threads rt does not own, which a signalfd would not (it needs the signal
// blocked in every thread of the process). SIGKILL, SIGSTOP and invalid numbers give EINVAL.
//
// Delivery: a listener's recv() completes once for one or more deliveries since the previous
// recv (or since listen); deliveries in between coalesce, as signals themselves do. recv() is
// cancel-safe: a dropped recv leaves the delivery for the next one. The free functions recv()
// and ctrl_c() listen when the awaiting task first runs them: a signal sent before that is not
// seen. Use a listener when the start of counting matters.
#pragma once

#include "rt/detail/io_source.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/task.hpp"

#include <cstdint>

namespace rt::signal {

class listener {
public:
    listener() noexcept = default;

    /// Starts counting deliveries of `signum` (immediate). Call from a runtime thread.
    static io_result<listener> listen(int signum);

    /// Completes when `signum` was delivered since the previous recv (or listen).
    [[nodiscard("co_await it")]] rt::task<io_result<void>> recv();

    int signum() const noexcept { return signum_; }

private:
    int signum_ = 0;
    std::uint64_t seen_ = 0;
    rt::detail::io_source src_;
};

/// The next delivery of `signum` after the awaiting task starts waiting.
[[nodiscard("co_await it")]] rt::task<io_result<void>> recv(int signum);
/// The next SIGINT (Ctrl-C in a terminal).
[[nodiscard("co_await it")]] rt::task<io_result<void>> ctrl_c();

} // namespace rt::signal
