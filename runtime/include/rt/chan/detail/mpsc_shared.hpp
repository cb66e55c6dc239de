// The receiving half every rt::mpsc channel shares, whatever queue it uses: the one receiver's
// waiter, the flag that tells senders someone waits, the counts of senders and references, and
// the handshake that keeps the fast paths free of locks and fences.
//
// A queue (mpsc_bounded, mpsc_unbounded) derives from mpsc_shared<Queue, T> and provides:
//   rx_prepare()     the receiver tidies its head before looking (the bounded queue skips the
//                    places of cancelled sends there);
//   rx_prepare_locked(w)  the same under mu_, by the receiver or on its behalf while it waits;
//                    true when it moved the head;
//   head_published() the message at the receiver's head is there to take;
//   rx_ready()       head_published(), or the channel is closed and every claimed position was
//                    consumed (the receiver has something to act on);
//   claimed()        a sender claimed the head position lock-free (reads the tail sequentially
//                    consistently): its message is published or being written;
//   in_flight()      claimed() and not yet published;
//   take(out)        after rx_ready(): moves the head message into `out`, or leaves it empty;
//   close_locked(w)  under mu_: marks the queue closed and prepares wakes for waiting senders.
//
// Senders claim positions in order (one sequentially consistent CAS on the tail) and publish in
// any order. The receiver is only woken once its head itself is published, so a resumed receive
// always finds something to return and never has to wait again inside await_resume.
//
// The handshake (a Dekker pair, no lock and no fence on either fast path): a sender claims its
// position with the CAS, then reads `rx_waiting_` (and, if it is set, wakes the receiver after
// publishing); the receiver raises `rx_waiting_`, then reads the tail. All four accesses are
// sequentially consistent, so one side sees the other. A receiver that sees a claimed but not yet
// published head does not sleep: the claiming sender is between its CAS and its publication
// (no suspension point in between) and may not have seen the flag, so the receiver spins for the
// few instructions it needs. The x86 CAS is a full barrier already: senders pay nothing extra.
#pragma once

#include "rt/detail/atomic.hpp"
#include "rt/detail/context.hpp"
#include "rt/detail/waiter.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>

namespace rt::detail {

/// Short waits for another thread that is between two steps of a lock-free operation (a sender
/// installing the next block). Spins a little, then gives the core away.
class mpsc_backoff {
public:
    void snooze() noexcept {
        if (step_ < 6) {
            for (unsigned i = 0; i < (1u << step_); ++i)
                spin_hint();
            ++step_;
        } else {
            std::this_thread::yield();
        }
    }

private:
    static void spin_hint() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }
    unsigned step_ = 0;
};

/// A test-and-test-and-set lock for the channel's short critical sections (a few pointer moves,
/// never a wake or an allocation of its own): cheaper than a futex mutex when two workers meet
/// on it, and it never puts a worker to sleep. Spins briefly, then yields the core.
class mpsc_lock {
public:
    void lock() noexcept {
        if (!locked_.exchange(true, memory_order_acquire))
            return;
        mpsc_backoff backoff;
        do {
            while (locked_.load(memory_order_relaxed))
                backoff.snooze();
        } while (locked_.exchange(true, memory_order_acquire));
    }
    void unlock() noexcept { locked_.store(false, memory_order_release); }

private:
    atomic<bool> locked_{false};
};

/// The receiver, the counts and the close protocol of an mpsc channel (see the top of the file).
template <class Queue, class T>
class mpsc_shared {
public:
    using value_type = T;

    mpsc_shared() = default;
    mpsc_shared(const mpsc_shared&) = delete;
    mpsc_shared& operator=(const mpsc_shared&) = delete;

    // ---- lifetime: one reference per live sender plus one for the receiver ----

    void add_sender() noexcept {
        senders_.fetch_add(1, memory_order_relaxed);
        refs_.fetch_add(1, memory_order_relaxed);
    }
    /// The last sender to go closes the channel, so the receiver sees the end of the stream.
    void drop_sender() noexcept {
        if (senders_.fetch_sub(1, memory_order_acq_rel) == 1)
            close();
        release();
    }
    void drop_receiver() noexcept {
        {
            std::lock_guard lock(mu_);
            rx_gone_ = true;
        }
        close();
        // Queued messages go now rather than with the last sender.
        std::optional<T> sink;
        for (;;) {
            self().rx_prepare();
            if (!self().head_published())
                break;
            self().take(sink);
            sink.reset();
        }
        release();
    }

    /// No send succeeds after this; what is queued stays receivable. Wakes every waiting sender
    /// (they fail with the message), and the receiver once nothing is left in flight.
    void close() noexcept {
        pending_wakes wakes;
        pending_wake rx;
        std::lock_guard lock(mu_);
        if (closed_)
            return;
        closed_ = true;
        self().close_locked(wakes);
        wake_rx_locked(rx, wakes);
    }

    // ---- the receiver's wait ----

    enum class rx_wait { linked, ready, in_flight };

    /// Links the receiver's waiter unless a message (or the end) is there. `in_flight`: a sender
    /// is writing the head message; the caller spins until it is published (outside the lock).
    rx_wait rx_register(waiter& w) {
        pending_wakes grants;
        std::lock_guard lock(mu_);
        self().rx_prepare_locked(grants);
        if (self().rx_ready())
            return rx_wait::ready;
        w.w = current_waker();
        w.notified = false;
        w.linked = true;
        rx_waiter_ = &w;
        rx_waiting_.store(1, memory_order_seq_cst);
        if (self().rx_ready()) {
            unlink_rx_locked();
            return rx_wait::ready;
        }
        if (self().claimed()) {
            // Its sender may have read the flag before we raised it and will not wake us; it may
            // also have published since rx_ready() looked. Either way: do not sleep.
            unlink_rx_locked();
            return rx_wait::in_flight;
        }
        return rx_wait::linked;
    }

    /// Waits out a sender that claimed the head and is writing it.
    void rx_spin_while_in_flight() const noexcept {
        mpsc_backoff backoff;
        while (self().in_flight())
            backoff.snooze();
    }

    /// A receive destroyed while waiting (abort, timeout, select). Nothing was taken: messages
    /// stay in the queue until a resumed receive moves them out.
    void rx_cancel(waiter& w) noexcept {
        std::lock_guard lock(mu_);
        if (w.linked)
            unlink_rx_locked();
    }

    /// A sender's look at the flag, right after its claiming CAS (see the top of the file).
    bool rx_waiting() const noexcept { return rx_waiting_.load(memory_order_seq_cst) != 0; }

    /// After a sender that saw rx_waiting() published: wakes the receiver if the head is ready.
    void wake_rx() noexcept {
        pending_wakes grants;
        pending_wake wake;
        std::lock_guard lock(mu_);
        wake_rx_locked(wake, grants);
    }

protected:
    ~mpsc_shared() = default;

    /// Under mu_. The receiver's fields are only touched while it is linked, that is, suspended;
    /// it reads them again after the wake, which orders our writes before its reads.
    void wake_rx_locked(pending_wake& wake, pending_wakes& grants) noexcept {
        if (rx_waiter_ == nullptr)
            return;
        if (!self().rx_ready()) {
            if (!self().rx_prepare_locked(grants))
                return;
            if (!self().rx_ready()) {
                // Stepping over a skipped place moved the head past the point where the receiver
                // looked for lock-free claims when it started to wait: the sender writing the new
                // head may have read the flag before it was raised and will not wake it. It is
                // between its CAS and its publication (no lock, no suspension): wait it out.
                if (!self().claimed())
                    return;
                self().rx_spin_while_in_flight();
                if (!self().rx_ready())
                    return;
            }
        }
        waiter* w = rx_waiter_;
        unlink_rx_locked();
        w->notified = true;
        wake.prepare(w->w); // last touch of the waiter: it may run once marked
    }

    void unlink_rx_locked() noexcept {
        rx_waiter_->linked = false;
        rx_waiter_ = nullptr;
        rx_waiting_.store(0, memory_order_relaxed);
    }

    void release() noexcept {
        if (refs_.fetch_sub(1, memory_order_acq_rel) == 1)
            delete &self();
    }

    Queue& self() noexcept { return static_cast<Queue&>(*this); }
    const Queue& self() const noexcept { return static_cast<const Queue&>(*this); }

    // Cold state, under mu_ (the lock-free hot fields live in the queue, on their own lines).
    mpsc_lock mu_;
    waiter* rx_waiter_ = nullptr;
    bool closed_ = false;  // close() ran (the queue also keeps a lock-free closed mark)
    bool rx_gone_ = false; // the receiver was dropped
    atomic<std::size_t> senders_{1};
    atomic<std::size_t> refs_{2};

    // Read by every sender after each publish; written when the receiver starts or stops waiting.
    alignas(cache_line) atomic<std::uint32_t> rx_waiting_{0};
};

} // namespace rt::detail
