// The timer driver: the wheel of pending sleeps, shared by the tasks that register timers (any
// worker) and the reactor thread that fires them.
//
// Protocol: one mutex guards the wheel and every linked timer_node. A node is linked only while
// its sleep awaiter is alive (the awaiter's destructor unlinks it under the lock), so the reactor
// may touch a linked node — mark its strand, take a reference on its task — while it holds the
// lock; it wakes the tasks after releasing it, with only those references. `wake_tick_` is the
// tick the reactor sleeps until: a registration earlier than that kicks the reactor awake.
// Ticks are milliseconds since `origin_`; a deadline rounds up to a tick and "now" rounds down,
// so a timer never fires before its deadline.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/introspect/histogram.hpp"
#include "rt/time/sleep.hpp"
#include "time/wheel.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace rt::detail {

class reactor;

class timer_driver {
public:
    timer_driver() : origin_(clock::now()) {}
    void set_reactor(reactor* r) noexcept { reactor_ = r; }

    /// Links `n` with the current task's waker; false (nothing linked) when already due.
    bool register_timer(timer_node& n, clock::time_point deadline);
    void cancel(timer_node& n) noexcept;

    // ---- reactor thread ----
    /// When the earliest pending timer is due; nullopt when none is pending.
    std::optional<clock::time_point> next_deadline();
    /// Fires every timer due at `now`: marks and references its task into `out` (wake them after).
    /// With `lateness`, records each timer's `now` minus its tick's deadline, in nanoseconds.
    void fire_expired(clock::time_point now, std::vector<task_header*>& out,
                      histogram_recorder* lateness = nullptr);

    std::size_t pending() {
        std::lock_guard lock(mu_);
        return wheel_.size();
    }

private:
    std::uint64_t deadline_tick(clock::time_point t) const noexcept;
    std::uint64_t now_tick(clock::time_point t) const noexcept;

    clock::time_point origin_;
    reactor* reactor_ = nullptr;
    mutex mu_;
    timer_wheel wheel_;
    std::uint64_t wake_tick_ = ~std::uint64_t{0}; // guarded by mu_
    std::vector<waker> firing_;                   // fire_expired's scratch; guarded by mu_
};

} // namespace rt::detail
