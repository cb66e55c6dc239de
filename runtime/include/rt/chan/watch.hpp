// rt::watch: a channel that holds one value, the latest; receivers are told when it changes, as
// tokio::sync::watch. For configuration, state and "the newest reading" rather than a stream.
//
//     auto [tx, rx] = rt::watch::channel(config{});
//     tx.send(new_config);                       // immediate; replaces the value
//     while (co_await rx.changed()) {            // rt::expected<void, rt::watch::recv_error>
//         auto cfg = rx.borrow_and_update();     // read guard: *cfg, cfg->field
//         apply(*cfg);
//     }                                          // error: every sender is gone
//
// Versions: each send makes a new version of the value. Every receiver remembers the version it
// has seen; a receiver made by channel() or tx.subscribe() has seen the current one, and a copy
// of a receiver has seen what the original had. has_changed() says whether a newer version
// exists; borrow_and_update() and changed() mark the newest version seen, borrow() does not.
// Receivers see only the latest value: a receiver that was away while three sends happened sees
// the third, once. Versions only go forward: a receiver never sees an older value after a newer.
//
// Borrowing: borrow() returns a guard holding a shared lock on the value. Sends wait (blocking
// the sending thread, not just the task) until every guard is gone, so keep guards short, never
// hold one across a co_await, and do not take a second guard on a thread that holds one.
//
// Sending and closing: send() fails and gives the value back when there is no receiver (the
// value is not stored); send_replace(), send_modify() and send_if_modified() store even then.
// Senders copy (the channel closes when the last is gone); when it closes, changed() first
// reports a version not yet seen, then recv_error. has_changed() stays a plain version
// comparison after the close; ask is_closed() for the close itself.
// Cancellation: changed() is cancel-safe. Only a completed changed() marks a version seen, so a
// wait cancelled by abort, timeout or select leaves the change for the next call.
// One changed() at a time per receiver (like Tokio's &mut self); copy the receiver to wait in
// two tasks. Values are updated under the lock: T need not be copyable. Handles may be used from
// any thread, sends also outside a runtime. A moved-from handle may only be assigned or destroyed.
#pragma once

#include "rt/chan/detail/watch_rwlock.hpp"
#include "rt/detail/atomic.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"
#include "rt/expected.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace rt::watch {

/// changed() found every sender gone (and no version left unseen).
struct recv_error {
    const char* what() const noexcept { return "watch channel closed"; }
    friend bool operator==(recv_error, recv_error) noexcept { return true; }
};

/// send() found no receiver; the value comes back and was not stored.
template <class T>
struct send_error {
    T value;
    const char* what() const noexcept { return "watch channel has no receivers"; }
};

template <class T>
class sender;
template <class T>
class receiver;

/// A read guard on the channel's value: a shared lock held until it is destroyed. Must not
/// outlive the sender or receiver it came from, nor span a co_await.
template <class T>
class ref {
public:
    ref(ref&& o) noexcept
        : lock_(std::exchange(o.lock_, nullptr)), value_(o.value_), changed_(o.changed_) {}
    ref(const ref&) = delete;
    ref& operator=(const ref&) = delete;
    ref& operator=(ref&&) = delete;
    ~ref() {
        if (lock_ != nullptr)
            lock_->unlock_shared();
    }

    const T& operator*() const noexcept { return *value_; }
    const T* operator->() const noexcept { return value_; }
    const T& get() const noexcept { return *value_; }
    /// Whether this value was a version the receiver had not seen when it borrowed it.
    bool has_changed() const noexcept { return changed_; }

private:
    friend class sender<T>;
    friend class receiver<T>;
    // Takes over a shared lock the caller holds.
    ref(rt::detail::watch_rwlock& l, const T& v, bool changed) noexcept
        : lock_(&l), value_(&v), changed_(changed) {}

    rt::detail::watch_rwlock* lock_;
    const T* value_;
    bool changed_;
};

} // namespace rt::watch

namespace rt::detail {

template <class T>
struct watch_state {
    template <class U>
    explicit watch_state(U&& v) : value(std::forward<U>(v)) {}

    watch_rwlock lock; // guards `value`
    T value;
    // Changed under both the write lock (so a borrow reads the version of the value it sees) and
    // `mu` (so a waiter, which checks it under `mu`, is woken exactly by a newer version: a wake
    // that came apart from its bump could reach a waiter that had already seen that version).
    atomic<std::uint64_t> version{0};
    atomic<std::size_t> senders{1};
    atomic<std::size_t> receivers{1};
    mutex mu;                   // guards the waiters and the close
    atomic<bool> closed{false}; // written under mu
    waiter_queue waiters;

    // Under the write lock: a new version. The wakes fire once the caller has unlocked.
    void publish_locked(pending_wakes& wakes) {
        std::lock_guard g(mu);
        version.fetch_add(1, memory_order_release);
        while (waiter* w = waiters.pop_front()) {
            w->notified = true;
            wakes.prepare(w->w);
        }
    }

    void close() {
        pending_wakes wakes;
        std::lock_guard g(mu);
        closed.store(true, memory_order_release);
        while (waiter* w = waiters.pop_front()) {
            w->notified = true;
            wakes.prepare(w->w);
        }
    }
};

} // namespace rt::detail

namespace rt::watch {

/// The sending half; copies are further senders of the same channel.
template <class T>
class sender {
public:
    sender(const sender& o) noexcept : s_(o.s_) {
        if (s_)
            s_->senders.fetch_add(1, rt::detail::memory_order_relaxed);
    }
    sender(sender&& o) noexcept = default;
    sender& operator=(const sender& o) noexcept {
        if (this != &o) {
            sender copy(o);
            std::swap(s_, copy.s_);
        }
        return *this;
    }
    sender& operator=(sender&& o) noexcept {
        if (this != &o) {
            release();
            s_ = std::move(o.s_);
        }
        return *this;
    }
    ~sender() { release(); }

    /// Replaces the value and wakes every receiver waiting in changed(). Fails, giving the value
    /// back without storing it, when there is no receiver.
    rt::expected<void, send_error<T>> send(T value) const {
        if (s_->receivers.load(rt::detail::memory_order_acquire) == 0)
            return rt::unexpected(send_error<T>{std::move(value)});
        (void)send_replace(std::move(value));
        return {};
    }

    /// Replaces the value (even with no receiver) and gives the previous one.
    T send_replace(T value) const {
        {
            rt::detail::pending_wakes wakes;
            std::lock_guard g(s_->lock);
            using std::swap;
            swap(value, s_->value);
            s_->publish_locked(wakes);
        }
        return value;
    }

    /// Calls f(T&) on the value in place (even with no receiver), then notifies. If f throws, the
    /// exception propagates and nobody is notified, but what f changed stays changed.
    template <class F>
    void send_modify(F&& f) const {
        rt::detail::pending_wakes wakes;
        std::lock_guard g(s_->lock);
        std::forward<F>(f)(s_->value);
        s_->publish_locked(wakes);
    }

    /// Calls f(T&) -> bool on the value in place; notifies (and gives true) only when f returns
    /// true, that is, when it says it modified the value.
    template <class F>
    bool send_if_modified(F&& f) const {
        rt::detail::pending_wakes wakes;
        std::lock_guard g(s_->lock);
        if (!std::forward<F>(f)(s_->value))
            return false;
        s_->publish_locked(wakes);
        return true;
    }

    /// A read guard on the current value (see ref).
    ref<T> borrow() const noexcept {
        s_->lock.lock_shared();
        return ref<T>(s_->lock, s_->value, false);
    }

    /// A new receiver that has seen the current value. Reopens a channel whose receivers were
    /// all gone.
    receiver<T> subscribe() const {
        s_->receivers.fetch_add(1, rt::detail::memory_order_relaxed);
        return receiver<T>(s_, s_->version.load(rt::detail::memory_order_acquire));
    }

    std::size_t receiver_count() const noexcept {
        return s_->receivers.load(rt::detail::memory_order_relaxed);
    }
    std::size_t sender_count() const noexcept {
        return s_->senders.load(rt::detail::memory_order_relaxed);
    }
    /// True when there is no receiver (send() would fail).
    bool is_closed() const noexcept { return receiver_count() == 0; }
    bool same_channel(const sender& o) const noexcept { return s_ == o.s_; }

private:
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(U);

    explicit sender(std::shared_ptr<rt::detail::watch_state<T>> s) noexcept : s_(std::move(s)) {}

    void release() noexcept {
        if (s_ && s_->senders.fetch_sub(1, rt::detail::memory_order_acq_rel) == 1)
            s_->close();
        s_.reset();
    }

    std::shared_ptr<rt::detail::watch_state<T>> s_;
};

/// The receiving half. A copy is a receiver that has seen the same version as the original.
template <class T>
class receiver {
public:
    receiver(const receiver& o) noexcept : s_(o.s_), seen_(o.seen_) {
        if (s_)
            s_->receivers.fetch_add(1, rt::detail::memory_order_relaxed);
    }
    receiver(receiver&& o) noexcept : s_(std::move(o.s_)), seen_(o.seen_) {}
    receiver& operator=(const receiver& o) noexcept {
        if (this != &o) {
            receiver copy(o);
            std::swap(s_, copy.s_);
            seen_ = o.seen_;
        }
        return *this;
    }
    receiver& operator=(receiver&& o) noexcept {
        if (this != &o) {
            release();
            s_ = std::move(o.s_);
            seen_ = o.seen_;
        }
        return *this;
    }
    ~receiver() { release(); }

    /// A read guard on the current value; does not mark it seen.
    ref<T> borrow() const noexcept {
        s_->lock.lock_shared();
        // The version cannot move while the lock is shared: it is the version of this value.
        auto v = s_->version.load(rt::detail::memory_order_relaxed);
        return ref<T>(s_->lock, s_->value, v != seen_);
    }

    /// A read guard on the current value, whose version is marked seen.
    ref<T> borrow_and_update() noexcept {
        s_->lock.lock_shared();
        auto v = s_->version.load(rt::detail::memory_order_relaxed);
        bool changed = v != seen_;
        seen_ = v;
        return ref<T>(s_->lock, s_->value, changed);
    }

    /// Whether a version newer than the last seen exists. Not affected by the close.
    bool has_changed() const noexcept {
        return s_->version.load(rt::detail::memory_order_acquire) != seen_;
    }
    /// Makes has_changed() true and changed() complete at once, whatever was sent.
    void mark_changed() noexcept { seen_ = s_->version.load(rt::detail::memory_order_acquire) - 1; }
    /// Marks the current version seen without borrowing it.
    void mark_unchanged() noexcept { seen_ = s_->version.load(rt::detail::memory_order_acquire); }
    /// True when every sender is gone (rt's addition to Tokio's interface).
    bool is_closed() const noexcept { return s_->closed.load(rt::detail::memory_order_acquire); }
    bool same_channel(const receiver& o) const noexcept { return s_ == o.s_; }

    class changed_awaiter {
    public:
        RT_AWAIT_POINT("watch::changed");
        explicit changed_awaiter(receiver& rx) noexcept : rx_(rx) {}
        // Movable until it first suspends (select and timeout move their branches into place).
        changed_awaiter(changed_awaiter&& o) noexcept : rx_(o.rx_) {}
        changed_awaiter(const changed_awaiter&) = delete;
        changed_awaiter& operator=(const changed_awaiter&) = delete;
        ~changed_awaiter() {
            if (!waiting_)
                return;
            // Cancelled while waiting. Nothing to hand on: every waiter is woken by each send,
            // and the version stays unseen for this receiver.
            std::lock_guard g(rx_.s_->mu);
            if (w_.linked)
                rx_.s_->waiters.remove(&w_);
        }

        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) {
            auto& s = *rx_.s_;
            {
                std::lock_guard g(s.mu);
                if (!rx_.ready()) {
                    w_.w = rt::detail::current_waker();
                    s.waiters.push_back(&w_);
                    waiting_ = true;
                    return true;
                }
                if (rt::detail::coop_consume()) {
                    result_ = rx_.take_change();
                    done_ = true;
                    return false;
                }
            }
            // Out of budget: let others run first; the change stays unseen meanwhile.
            rt::detail::yield_current();
            return true;
        }
        rt::expected<void, recv_error> await_resume() {
            // Resumed by a send or the close (which unlinked the waiter) or after a yield.
            waiting_ = false;
            if (done_)
                return result_;
            std::lock_guard g(rx_.s_->mu);
            return rx_.take_change();
        }

    private:
        receiver& rx_;
        rt::detail::waiter w_;
        rt::expected<void, recv_error> result_;
        bool waiting_ = false;
        bool done_ = false;
    };

    /// Completes when a version newer than the last seen exists (at once if one does) and marks
    /// it seen; recv_error when every sender is gone and nothing new is left.
    [[nodiscard("co_await it")]] changed_awaiter changed() noexcept {
        return changed_awaiter(*this);
    }

private:
    friend class sender<T>;
    template <class U>
    friend std::pair<sender<U>, receiver<U>> channel(U);

    receiver(std::shared_ptr<rt::detail::watch_state<T>> s, std::uint64_t seen) noexcept
        : s_(std::move(s)), seen_(seen) {}

    // The close is read first: a send that came before it is then visible to the version load.
    bool ready() const noexcept {
        bool closed = s_->closed.load(rt::detail::memory_order_acquire);
        return closed || s_->version.load(rt::detail::memory_order_acquire) != seen_;
    }
    rt::expected<void, recv_error> take_change() noexcept {
        bool closed = s_->closed.load(rt::detail::memory_order_acquire);
        auto v = s_->version.load(rt::detail::memory_order_acquire);
        if (v != seen_) {
            seen_ = v;
            return {};
        }
        if (closed)
            return rt::unexpected(recv_error{});
        // Unreachable: a waiter is woken only by a version newer than the one it had seen (see
        // watch_state::version) or by the close, and a yield only follows a ready check.
        return {};
    }

    void release() noexcept {
        if (s_)
            s_->receivers.fetch_sub(1, rt::detail::memory_order_acq_rel);
        s_.reset();
    }

    std::shared_ptr<rt::detail::watch_state<T>> s_;
    std::uint64_t seen_ = 0;
};

/// A channel holding `initial` (seen by the receiver it returns), with one sender and one
/// receiver.
template <class T>
std::pair<sender<T>, receiver<T>> channel(T initial) {
    auto s = std::make_shared<rt::detail::watch_state<T>>(std::move(initial));
    return {sender<T>(s), receiver<T>(s, 0)};
}

} // namespace rt::watch
