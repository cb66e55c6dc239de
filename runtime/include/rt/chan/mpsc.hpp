// rt::mpsc: multi-producer, single-consumer channels, bounded and unbounded.
//
//     auto [tx, rx] = rt::mpsc::channel<int>(1024);       // bounded: send waits for room
//     rt::spawn([](rt::mpsc::sender<int> tx) -> rt::task<> {
//         for (int i = 0; i < 10; ++i)
//             if (!co_await tx.send(i)) co_return;        // error: the receiver is gone
//     }(tx));                                              // a copy is another live sender
//     tx = {};                                             // drop ours: the stream ends with the
//     while (auto v = co_await rx.recv()) use(*v);        //   last sender, and recv gives nullopt
//
//     auto [utx, urx] = rt::mpsc::unbounded_channel<std::string>();
//     utx.send("hello");                                   // never waits
//
// Senders are copyable: each copy is a live sender; a moved-from one is not. The channel ends
// (recv gives std::nullopt once the queue is drained) when every sender is gone or the receiver
// called close(). The receiver is move-only; dropping it closes the channel, destroys what is
// queued, and wakes every waiting sender with the closed error (the message comes back in it).
//
// Semantics:
//  - Order: messages from one sender arrive in the order sent. Messages of different senders are
//    ordered by the moment they claimed their place.
//  - Bounded means bounded: at most `capacity` messages are queued. send waits for room; waiting
//    senders are served FIFO: a send that waited gets room (and its place in the queue) before
//    any send that started later. try_send never waits and reports full or closed, giving the
//    message back; it is "full" while earlier sends wait.
//  - close(): no send succeeds afterwards (waiting ones fail, except one already given its place,
//    which still delivers); queued messages stay receivable. Dropping the receiver fails those too.
//  - Cancellation (abort, timeout, select): recv is cancel-safe, a message stays queued until a
//    receive that resumes takes it. A bounded send cancelled while waiting has sent nothing (its
//    message is destroyed with the awaiter) and its place in line goes to the next waiter.
//  - Fairness with other tasks: a send or recv that completes without waiting spends the task's
//    cooperative budget, so a loop over a busy channel still lets its worker run others. When the
//    budget is spent, recv yields first (the message stays queued); send completes, then yields
//    (inside select/timeout it yields first, holding its room, so a lost race sends nothing).
//  - T must be nothrow move-constructible (a half-written slot could never be published).
//
// Cost: the fast paths are lock-free and wake nobody unless the other side waits: a send is one
// CAS on the tail (on x86 already the barrier the wake-up handshake needs), a receive one acquire
// load and one sequentially consistent store; a short lock is taken only to start or end a wait.
// Bytes per queued message: the bounded queue is a preallocated ring of `capacity` slots of
// sizeof(T) + 8 (16 for an 8-byte T); the unbounded queue grows in blocks of 31 slots of
// sizeof(T) + 4, rounded up to alignof(T) (16 for an 8-byte T, plus 8 per block).
#pragma once

#include "rt/chan/detail/mpsc_bounded.hpp"
#include "rt/chan/detail/mpsc_unbounded.hpp"
#include "rt/detail/await_point.hpp"
#include "rt/detail/context.hpp"
#include "rt/expected.hpp"

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace rt::mpsc {

/// Sending failed because the channel is closed; `value` is the message that was not sent.
template <class T>
struct send_error {
    T value;
    const char* what() const noexcept { return "sending on a closed channel"; }
};

/// try_send failed: the channel was full or closed; `value` is the message that was not sent.
template <class T>
struct try_send_error {
    enum class kind : std::uint8_t { full, closed };
    kind reason;
    T value;
    bool is_full() const noexcept { return reason == kind::full; }
    bool is_closed() const noexcept { return reason == kind::closed; }
    const char* what() const noexcept {
        return is_full() ? "sending on a full channel" : "sending on a closed channel";
    }
};

/// try_recv found nothing: `empty` (no message yet) or `closed` (closed and drained: nothing
/// will ever come).
enum class try_recv_error : std::uint8_t { empty, closed };

namespace detail {

using rt::detail::coop_consume;
using rt::detail::mpsc_bounded;
using rt::detail::mpsc_unbounded;
using rt::detail::yield_current;

/// co_await rx.recv(): the next message, or std::nullopt at the end of the stream.
template <class Core>
class recv_awaiter {
    using T = typename Core::value_type;

public:
    RT_AWAIT_POINT("mpsc::recv");
    explicit recv_awaiter(Core& c) noexcept : c_(&c) {}
    // Movable until it first suspends (select and timeout move their branches into place).
    recv_awaiter(recv_awaiter&& o) noexcept : c_(o.c_) {}
    recv_awaiter(const recv_awaiter&) = delete;
    recv_awaiter& operator=(const recv_awaiter&) = delete;
    ~recv_awaiter() {
        if (linked_ && !resumed_)
            c_->rx_cancel(w_);
    }

    bool await_ready() {
        c_->rx_prepare();
        if (!c_->rx_ready())
            return false;
        if (!coop_consume()) {
            yield_ = true; // the message stays queued until we come back
            return false;
        }
        c_->take(out_);
        taken_ = true;
        return true;
    }
    bool await_suspend(std::coroutine_handle<>) {
        if (yield_) {
            yield_current();
            return true;
        }
        for (;;) {
            switch (c_->rx_register(w_)) {
            case Core::rx_wait::linked:
                linked_ = true;
                return true;
            case Core::rx_wait::in_flight:
                c_->rx_spin_while_in_flight();
                break;
            default:
                return false;
            }
        }
    }
    std::optional<T> await_resume() {
        resumed_ = true;
        if (!taken_)
            c_->take(out_); // woken only once the head is ready (or the stream ended)
        return std::move(out_);
    }

private:
    Core* c_;
    rt::detail::waiter w_;
    std::optional<T> out_;
    bool linked_ = false;
    bool resumed_ = false;
    bool yield_ = false;
    bool taken_ = false;
};

/// What the bounded and unbounded receivers share.
template <class Core>
class receiver_base {
    using T = typename Core::value_type;

public:
    receiver_base() noexcept = default;
    explicit receiver_base(Core* c) noexcept : c_(c) {}
    receiver_base(receiver_base&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    receiver_base& operator=(receiver_base&& o) noexcept {
        if (this != &o) {
            reset();
            c_ = std::exchange(o.c_, nullptr);
        }
        return *this;
    }
    receiver_base(const receiver_base&) = delete;
    receiver_base& operator=(const receiver_base&) = delete;
    ~receiver_base() { reset(); }

    /// The next message; std::nullopt once every sender is gone (or close() was called) and
    /// the queue is drained. Cancel-safe.
    [[nodiscard("co_await it")]] recv_awaiter<Core> recv() noexcept {
        return recv_awaiter<Core>(*c_);
    }

    /// The next message if one is ready now.
    rt::expected<T, try_recv_error> try_recv() {
        c_->rx_prepare();
        if (c_->head_published()) {
            std::optional<T> out;
            c_->take(out);
            return std::move(*out);
        }
        if (c_->rx_ready())
            return rt::unexpected(try_recv_error::closed);
        return rt::unexpected(try_recv_error::empty);
    }

    /// Stops new sends (waiting senders fail at once); what is queued can still be received.
    void close() noexcept { c_->close(); }

    /// True once closed, by close() or because every sender is gone.
    bool is_closed() const noexcept { return c_->is_closed(); }

    bool valid() const noexcept { return c_ != nullptr; }

private:
    void reset() noexcept {
        if (c_ != nullptr)
            std::exchange(c_, nullptr)->drop_receiver();
    }

    Core* c_ = nullptr;
};

/// What the bounded and unbounded senders share: the count of live senders.
template <class Core>
class sender_base {
public:
    sender_base() noexcept = default;
    explicit sender_base(Core* c) noexcept : c_(c) {}
    sender_base(const sender_base& o) noexcept : c_(o.c_) {
        if (c_ != nullptr)
            c_->add_sender();
    }
    sender_base(sender_base&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    sender_base& operator=(const sender_base& o) noexcept {
        if (this != &o) {
            if (o.c_ != nullptr)
                o.c_->add_sender();
            reset();
            c_ = o.c_;
        }
        return *this;
    }
    sender_base& operator=(sender_base&& o) noexcept {
        if (this != &o) {
            reset();
            c_ = std::exchange(o.c_, nullptr);
        }
        return *this;
    }
    ~sender_base() { reset(); }

    /// True once the receiver is gone or called close(): every send fails from now on.
    bool is_closed() const noexcept { return c_->is_closed(); }
    bool valid() const noexcept { return c_ != nullptr; }

protected:
    Core* c_ = nullptr;

private:
    void reset() noexcept {
        if (c_ != nullptr)
            std::exchange(c_, nullptr)->drop_sender();
    }
};

/// co_await tx.send(v) on a bounded channel.
template <class T>
class send_awaiter {
    using core = mpsc_bounded<T>;

public:
    RT_AWAIT_POINT("mpsc::send");
    send_awaiter(core& c, T&& v) noexcept : c_(&c), value_(std::move(v)) {}
    // Movable until it first suspends (select and timeout move their branches into place).
    send_awaiter(send_awaiter&& o) noexcept : c_(o.c_), value_(std::move(o.value_)) {}
    send_awaiter(const send_awaiter&) = delete;
    send_awaiter& operator=(const send_awaiter&) = delete;
    ~send_awaiter() {
        if (state_ == state::waiting)
            c_->send_cancel(w_);
    }

    bool await_ready() noexcept {
        const bool budget = coop_consume();
        if (!budget && in_branch()) {
            // Inside select/timeout, losing the race must mean "not sent": reserve the
            // place, yield, and write when resumed (a cancellation gives the place back).
            reserve_ = true;
            return false;
        }
        switch (c_->try_push_fast(value_)) {
        case core::push_result::ok:
            state_ = state::sent;
            return budget; // budget spent: sent, and now yield (await_suspend)
        case core::push_result::closed:
            state_ = state::closed;
            return true;
        default:
            return false;
        }
    }
    bool await_suspend(std::coroutine_handle<>) {
        if (state_ == state::sent) {
            yield_current();
            return true;
        }
        switch (c_->send_wait(w_, value_, reserve_)) {
        case core::wait_result::sent:
            state_ = state::sent;
            return false;
        case core::wait_result::closed:
            state_ = state::closed;
            return false;
        case core::wait_result::reserved:
            state_ = state::waiting;
            yield_current();
            return true;
        case core::wait_result::waiting:
            break;
        }
        state_ = state::waiting;
        return true;
    }
    rt::expected<void, send_error<T>> await_resume() {
        if (state_ == state::waiting)
            state_ = c_->send_resume(w_, value_) ? state::sent : state::closed;
        if (state_ == state::sent)
            return {};
        return rt::unexpected(send_error<T>{std::move(value_)});
    }

private:
    enum class state : unsigned char { start, sent, closed, waiting };

    // A select or timeout branch runs on a strand of its own, below the task's root strand.
    static bool in_branch() noexcept {
        const auto& ctx = rt::detail::tls;
        return ctx.task != nullptr && ctx.current != &ctx.task->root;
    }

    core* c_;
    T value_;
    rt::detail::mpsc_send_waiter w_;
    state state_ = state::start;
    bool reserve_ = false;
};

} // namespace detail

/// The sending half of a bounded channel. Copyable: every copy is a live sender.
template <class T>
class sender : public detail::sender_base<detail::mpsc_bounded<T>> {
    using base = detail::sender_base<detail::mpsc_bounded<T>>;

public:
    using base::base;

    /// Waits for room, then queues `v`. Gives the message back in the error when the channel is
    /// (or becomes, while waiting) closed. Cancelled while waiting: nothing was sent.
    [[nodiscard("co_await it")]] detail::send_awaiter<T> send(T v) noexcept {
        return detail::send_awaiter<T>(*this->c_, std::move(v));
    }

    /// Queues `v` if there is room now (and no earlier send is waiting for room).
    rt::expected<void, try_send_error<T>> try_send(T v) {
        using r = typename detail::mpsc_bounded<T>::push_result;
        switch (this->c_->try_push(v)) {
        case r::ok:
            return {};
        case r::closed:
            return rt::unexpected(try_send_error<T>{try_send_error<T>::kind::closed, std::move(v)});
        default:
            return rt::unexpected(try_send_error<T>{try_send_error<T>::kind::full, std::move(v)});
        }
    }

    /// The most messages the channel queues.
    std::size_t capacity() const noexcept { return this->c_->capacity(); }
};

/// The receiving half of a bounded channel. Move-only; dropping it closes the channel.
template <class T>
class receiver : public detail::receiver_base<detail::mpsc_bounded<T>> {
    using detail::receiver_base<detail::mpsc_bounded<T>>::receiver_base;
};

/// The sending half of an unbounded channel. Copyable: every copy is a live sender.
template <class T>
class unbounded_sender : public detail::sender_base<detail::mpsc_unbounded<T>> {
    using base = detail::sender_base<detail::mpsc_unbounded<T>>;

public:
    using base::base;

    /// Queues `v` at once (never waits); gives it back in the error when the channel is closed.
    rt::expected<void, send_error<T>> send(T v) {
        if (!this->c_->push(v))
            return rt::unexpected(send_error<T>{std::move(v)});
        return {};
    }
};

/// The receiving half of an unbounded channel. Move-only; dropping it closes the channel.
template <class T>
class unbounded_receiver : public detail::receiver_base<detail::mpsc_unbounded<T>> {
    using detail::receiver_base<detail::mpsc_unbounded<T>>::receiver_base;
};

/// A channel queuing at most `capacity` (>= 1) messages; throws std::invalid_argument for 0.
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "rt::mpsc needs a nothrow move-constructible message type");
    auto* c = new detail::mpsc_bounded<T>(capacity);
    return {sender<T>(c), receiver<T>(c)};
}

/// A channel whose send never waits: it queues as much as the senders send.
template <class T>
std::pair<unbounded_sender<T>, unbounded_receiver<T>> unbounded_channel() {
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "rt::mpsc needs a nothrow move-constructible message type");
    auto* c = new detail::mpsc_unbounded<T>();
    return {unbounded_sender<T>(c), unbounded_receiver<T>(c)};
}

} // namespace rt::mpsc
