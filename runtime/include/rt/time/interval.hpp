// rt::interval: a periodic ticker.
//
//     auto iv = rt::interval(100ms);
//     for (;;) { auto at = co_await iv.tick(); ... }
//
// The first tick completes at once; tick n completes at start + n * period. When the task falls
// behind, the missed ticks complete back to back until it has caught up (Tokio's "burst").
// tick() gives the instant the tick was scheduled for. Dropping a pending tick loses nothing:
// the next tick() waits for the same instant.
#pragma once

#include "rt/time/sleep.hpp"

#include <stdexcept>

namespace rt {

class interval {
public:
    template <class Rep, class Period>
    explicit interval(std::chrono::duration<Rep, Period> period,
                      clock::time_point start = clock::now())
        : next_(start), period_(std::chrono::ceil<clock::duration>(period)) {
        if (period_ <= clock::duration::zero())
            throw std::invalid_argument("rt::interval: the period must be positive");
    }

    class tick_awaiter : public detail::sleep_awaiter {
    public:
        RT_AWAIT_POINT("interval::tick");
        explicit tick_awaiter(interval& iv) noexcept : sleep_awaiter(iv.next_), iv_(iv) {}
        clock::time_point await_resume() noexcept {
            sleep_awaiter::await_resume();
            iv_.next_ += iv_.period_;
            return deadline_;
        }

    private:
        interval& iv_;
    };

    [[nodiscard("co_await it")]] tick_awaiter tick() noexcept { return tick_awaiter(*this); }
    clock::duration period() const noexcept { return period_; }
    /// When the next tick is due.
    clock::time_point deadline() const noexcept { return next_; }

private:
    clock::time_point next_;
    clock::duration period_;
};

} // namespace rt
