#include "io/registration.hpp"

#include "io/io_driver.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"

#include <exception>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace rt::detail {

std::uint32_t io_registration::from_poll_events(std::uint32_t ev) noexcept {
    std::uint32_t b = 0;
    if (ev & (EPOLLIN | EPOLLPRI))
        b |= readable;
    if (ev & EPOLLOUT)
        b |= writable;
    if (ev & EPOLLRDHUP)
        b |= read_closed;
    if (ev & EPOLLHUP)
        b |= read_closed | write_closed;
    if (ev & EPOLLERR)
        b |= error;
    return b;
}

void io_registration::set_ready(std::uint32_t bits, std::vector<task_header*>& woken) {
    std::lock_guard lock(mu);
    ready |= bits;
    ++tick;
    for (io_direction d : {io_direction::read, io_direction::write}) {
        if (!(bits & mask(d)))
            continue;
        // Every waiter of the direction: each re-checks with its own system call, and the
        // ones that find nothing clear the readiness again (with the tick) and wait anew.
        auto& q = waiters[static_cast<int>(d)];
        while (waiter* w = q.pop_front())
            prepare_io_wake(w, woken);
    }
}

void prepare_io_wake(waiter* w, std::vector<task_header*>& woken) {
    w->notified = true;
    // Read everything before the mark: once it is visible the awaiter may be gone.
    task_header* t = w->w.task;
    strand* target = w->w.target;
    ref_inc(t);
    woken.push_back(t);
    if (target != nullptr)
        target->mark();
}

void stream_op::complete(int res, std::vector<task_header*>& woken) {
    std::lock_guard lock(owner->mu);
    busy = false;
    // Bytes read are kept whoever asked: the awaiting read takes them when it resumes, and if it
    // was dropped the next read does.
    if (dir == io_direction::read && res > 0) {
        stash_off = 0;
        stash_len = static_cast<std::size_t>(res);
    }
    if (awaiting != nullptr) {
        awaiting->res = res;
        awaiting->done = true;
        prepare_io_wake(&awaiting->w, woken);
        awaiting = nullptr;
    }
    while (waiter* w = idle.pop_front())
        prepare_io_wake(w, woken);
}

void stream_op::reserve(std::size_t n) {
    if (cap >= n)
        return;
    buf.reset(new std::byte[n]); // not zeroed: the kernel fills it
    cap = n;
}

// Only completion backends are ever asked; a readiness backend reaching here is a bug.
void io_driver::submit(const ring_request&, ring_completion*) noexcept {
    std::terminate();
}

void io_driver::cancel(ring_completion*) noexcept {
    std::terminate();
}

bool io_poll_ready(io_registration* r, io_direction dir, std::uint64_t& tick) noexcept {
    std::lock_guard lock(r->mu);
    tick = r->tick;
    return (r->ready & io_registration::mask(dir)) != 0;
}

bool io_link_waiter(io_registration* r, io_direction dir, waiter& w, std::uint64_t& tick) {
    std::lock_guard lock(r->mu);
    tick = r->tick;
    if (r->ready & io_registration::mask(dir))
        return false;
    w.notified = false;
    r->waiters[static_cast<int>(dir)].push_back(&w);
    return true;
}

void io_unlink_waiter(io_registration* r, io_direction dir, waiter& w) noexcept {
    std::lock_guard lock(r->mu);
    if (w.linked)
        r->waiters[static_cast<int>(dir)].remove(&w);
}

io_result<io_source> io_source::adopt(int fd) {
    runtime_impl& rt = current_runtime("rt I/O");
    auto reg = rt.io.driver().add(fd);
    if (!reg) {
        ::close(fd);
        return unexpected(reg.error());
    }
    io_source s;
    s.fd_ = fd;
    s.reg_ = *reg;
    return s;
}

io_source& io_source::operator=(io_source&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.fd_;
        reg_ = o.reg_;
        o.fd_ = -1;
        o.reg_ = nullptr;
    }
    return *this;
}

void io_source::clear_ready(io_direction dir, std::uint64_t tick) const noexcept {
    std::lock_guard lock(reg_->mu);
    if (reg_->tick == tick)
        reg_->ready &=
            ~(dir == io_direction::read ? io_registration::readable : io_registration::writable);
}

void io_source::set_drains_on_short_read() noexcept {
    if (reg_ != nullptr)
        reg_->drains_on_short_read = true;
}

void io_source::clear_ready_if_short(io_direction dir, std::uint64_t tick, std::size_t moved,
                                     std::size_t asked) const noexcept {
    if (moved > 0 && moved < asked && reg_->drains_on_short_read)
        clear_ready(dir, tick);
}

void io_source::close() noexcept {
    if (reg_ != nullptr) {
        reg_->driver->remove(reg_);
        reg_ = nullptr;
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

} // namespace rt::detail
