// Process-wide signal plumbing (see rt/signal/signal.hpp for the user-facing protocol).
//
// The handler may run on any thread at any moment, so it touches only lock-free atomics and
// write(2): it bumps the signal's delivery count, then writes to the shared eventfd. A listener
// compares the count with the value it last saw, and otherwise waits for the eventfd (a dup of
// it, registered edge-triggered with its runtime's reactor). The order count-then-write means a
// listener woken by the write always sees the count that caused it. The eventfd is created once
// and never closed: a handler may still be running on another thread at exit.
#include "rt/signal/signal.hpp"

#include "rt/detail/atomic.hpp"

#include <array>
#include <csignal>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace rt::signal {

namespace {

constexpr int max_signal = 65;

std::array<std::atomic<std::uint64_t>, max_signal> delivered{};
std::atomic<int> signal_event_fd{-1};
rt::detail::mutex install_mu;
std::array<bool, max_signal> installed{}; // guarded by install_mu

void on_signal(int sig) {
    int saved = errno;
    if (sig > 0 && sig < max_signal)
        delivered[static_cast<std::size_t>(sig)].fetch_add(1, std::memory_order_seq_cst);
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n =
        ::write(signal_event_fd.load(std::memory_order_relaxed), &one, sizeof one);
    errno = saved;
}

// Installs the handler for `sig` once per process; the eventfd first.
io_result<void> install(int sig) {
    if (sig <= 0 || sig >= max_signal || sig == SIGKILL || sig == SIGSTOP)
        return rt::detail::make_error(EINVAL);
    std::lock_guard lock(install_mu);
    if (signal_event_fd.load(std::memory_order_relaxed) < 0) {
        int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return rt::detail::last_error();
        signal_event_fd.store(fd, std::memory_order_release);
    }
    if (installed[static_cast<std::size_t>(sig)])
        return {};
    struct sigaction sa {};
    sa.sa_handler = &on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(sig, &sa, nullptr) != 0)
        return rt::detail::last_error();
    installed[static_cast<std::size_t>(sig)] = true;
    return {};
}

} // namespace

io_result<listener> listener::listen(int signum) {
    auto ok = install(signum);
    if (!ok)
        return unexpected(ok.error());
    int fd = ::fcntl(signal_event_fd.load(std::memory_order_acquire), F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return rt::detail::last_error();
    auto src = rt::detail::io_source::adopt(fd);
    if (!src)
        return unexpected(src.error());
    listener l;
    l.signum_ = signum;
    l.seen_ = delivered[static_cast<std::size_t>(signum)].load(std::memory_order_seq_cst);
    l.src_ = std::move(*src);
    return l;
}

rt::task<io_result<void>> listener::recv() {
    if (!src_.valid())
        co_return rt::detail::make_error(EBADF);
    auto& count = delivered[static_cast<std::size_t>(signum_)];
    for (;;) {
        std::uint64_t now = count.load(std::memory_order_seq_cst);
        if (now != seen_) {
            seen_ = now;
            co_return io_result<void>{};
        }
        std::uint64_t tick = co_await src_.ready(rt::detail::io_direction::read);
        // Drain the shared counter; whoever finds it empty waits for the next edge. Every
        // listener's registration gets its own edge, so draining here starves no one.
        std::uint64_t v;
        if (::read(src_.fd(), &v, sizeof v) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            src_.clear_ready(rt::detail::io_direction::read, tick);
    }
}

namespace {
rt::task<io_result<void>> listen_and_recv(int signum) {
    auto l = listener::listen(signum);
    if (!l)
        co_return unexpected(l.error());
    co_return co_await l->recv();
}
} // namespace

rt::task<io_result<void>> recv(int signum) {
    return listen_and_recv(signum);
}

rt::task<io_result<void>> ctrl_c() {
    return listen_and_recv(SIGINT);
}

} // namespace rt::signal
