#include "time/timer_driver.hpp"

#include "io/reactor.hpp"
#include "rt/detail/context.hpp"
#include "sched/runtime_impl.hpp"

namespace rt::detail {

namespace {
timer_node* node_of(timer_entry* e) noexcept {
    static_assert(std::is_standard_layout_v<timer_node>);
    return reinterpret_cast<timer_node*>(e);
}
} // namespace

std::uint64_t timer_driver::deadline_tick(clock::time_point t) const noexcept {
    if (t <= origin_)
        return 0;
    // Far deadlines (time_point::max()) clamp to the largest tick the entry can hold. Compare in
    // milliseconds: max_tick converted to nanoseconds would overflow.
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - origin_).count();
    if (static_cast<std::uint64_t>(ms) >= timer_entry::max_tick)
        return timer_entry::max_tick;
    return static_cast<std::uint64_t>(ms);
}

std::uint64_t timer_driver::now_tick(clock::time_point t) const noexcept {
    if (t <= origin_)
        return 0;
    return static_cast<std::uint64_t>(
        std::chrono::floor<std::chrono::milliseconds>(t - origin_).count());
}

bool timer_driver::register_timer(timer_node& n, clock::time_point deadline) {
    n.w = current_waker();
    n.entry.tick = deadline_tick(deadline);
    bool kick = false;
    {
        std::lock_guard lock(mu_);
        if (!wheel_.insert(&n.entry)) {
            n.w = waker{}; // not registered: nothing for the awaiter to cancel
            return false;
        }
        if (n.entry.tick < wake_tick_) {
            wake_tick_ = n.entry.tick;
            kick = true;
        }
    }
    if (kick)
        reactor_->kick();
    return true;
}

void timer_driver::cancel(timer_node& n) noexcept {
    std::lock_guard lock(mu_);
    if (n.entry.linked)
        wheel_.remove(&n.entry);
}

std::optional<clock::time_point> timer_driver::next_deadline() {
    std::lock_guard lock(mu_);
    auto t = wheel_.next_expiration();
    if (!t) {
        wake_tick_ = ~std::uint64_t{0};
        return std::nullopt;
    }
    wake_tick_ = *t;
    return origin_ + std::chrono::milliseconds(*t);
}

void timer_driver::fire_expired(clock::time_point now, std::vector<task_header*>& out,
                                histogram_recorder* lateness) {
    std::uint64_t tick = now_tick(now);
    auto since_origin = now - origin_;
    std::lock_guard lock(mu_);
    // Two passes: the first walks the wheel and only prefetches each task's header; the second
    // (still under the lock, which keeps the tasks alive) references and marks them, by then
    // mostly from cache. A tick of a busy wheel fires thousands of timers whose headers were last
    // touched long ago: one pass would wait for each header's miss in turn.
    firing_.clear();
    wheel_.advance(tick, [this, lateness, since_origin](timer_entry* e) {
        timer_node* n = node_of(e);
        if (lateness != nullptr) {
            auto late = since_origin - std::chrono::milliseconds(e->tick);
            lateness->record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(late).count()));
        }
        __builtin_prefetch(n->w.task, 1);
        firing_.push_back(n->w);
    });
    for (const waker& w : firing_) {
        out.push_back(w.task);
        ref_inc(w.task);
        if (w.target != nullptr)
            w.target->mark();
    }
}

bool timer_register(timer_node& n, clock::time_point deadline) {
    return current_runtime("rt::sleep").timers.register_timer(n, deadline);
}

void timer_cancel(timer_node& n) noexcept {
    // The registering task's runtime holds the timer; the node needs no pointer of its own.
    if (n.w.task != nullptr)
        n.w.task->sched_owner->timers.cancel(n);
}

} // namespace rt::detail
