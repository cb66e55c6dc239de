// rt::notify: permits, notify_waiters, FIFO wake-up, and hand-off when a woken wait is cancelled.
#include <rt/rt.hpp>
#include <rt/sync/notify.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

using namespace std::chrono_literals;

namespace {

auto make_runtime() {
    return rt::runtime::builder().worker_threads(2).build();
}

TEST(sync_notify, a_permit_stored_before_the_wait_completes_it_at_once) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        n.notify_one();
        n.notify_one(); // at most one permit
        co_await n.notified();
        auto second = co_await rt::timeout(20ms, n.notified());
        EXPECT_FALSE(second.has_value());
    }());
}

rt::task<> wait_and_count(rt::notify* n, std::atomic<int>* woken) {
    co_await n->notified();
    woken->fetch_add(1);
}

TEST(sync_notify, notify_one_wakes_exactly_one_waiter) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        std::atomic<int> woken{0};
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < 10; ++i)
            hs.push_back(rt::spawn(wait_and_count(&n, &woken)));
        co_await rt::sleep(20ms);
        for (int i = 1; i <= 10; ++i) {
            n.notify_one();
            while (woken.load() < i)
                co_await rt::sleep(1ms);
            co_await rt::sleep(2ms);
            EXPECT_EQ(woken.load(), i);
        }
        for (auto& h : hs)
            co_await h;
    }());
}

TEST(sync_notify, notify_waiters_wakes_everyone_waiting_and_stores_nothing) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        std::atomic<int> woken{0};
        std::vector<rt::join_handle<void>> hs;
        for (int i = 0; i < 100; ++i)
            hs.push_back(rt::spawn(wait_and_count(&n, &woken)));
        co_await rt::sleep(20ms);
        n.notify_waiters();
        for (auto& h : hs)
            co_await h;
        EXPECT_EQ(woken.load(), 100);
        auto later = co_await rt::timeout(10ms, n.notified());
        EXPECT_FALSE(later.has_value());
    }());
}

TEST(sync_notify, a_woken_wait_that_is_cancelled_passes_the_notification_on) {
    // One worker, and the test body runs on it: nothing can poll `first` between the notify and
    // the abort.
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            rt::notify n;
            std::atomic<int> woken{0};
            // The first waiter is woken and aborted before it can run; the second must get it.
            auto first = rt::spawn(wait_and_count(&n, &woken));
            co_await rt::sleep(5ms);
            auto second = rt::spawn(wait_and_count(&n, &woken));
            co_await rt::sleep(5ms);
            n.notify_one(); // wakes `first` (FIFO)...
            first.abort();  // ...which is cancelled before the only worker polls it
            co_await first;
            co_await second; // completes only if the notification was handed on
            EXPECT_EQ(woken.load(), 1);
        }());
    }());
}

TEST(sync_notify, select_losing_a_notified_branch_keeps_the_permit) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        rt::notify n;
        for (int i = 0; i < 200; ++i) {
            // Both branches may become ready in the same instant; whichever loses must not eat
            // the notification.
            n.notify_one();
            auto res = co_await rt::select(rt::yield_now(), n.notified());
            if (res.index() == 0)
                co_await n.notified(); // the permit is still there
        }
    }());
}

TEST(sync_notify, many_notifiers_and_waiters_balance_exactly) {
    // Exactness needs every waiter registered before the notifications start (a permit holds at
    // most one). One worker runs the test body and the waiters from a FIFO queue, so one yield
    // lets each waiter reach its wait; the notifications then come from ten blocking threads at
    // once.
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        co_await rt::spawn([]() -> rt::task<> {
            rt::notify n;
            std::atomic<int> woken{0};
            constexpr int waiters = 500;
            std::vector<rt::join_handle<void>> hs;
            for (int i = 0; i < waiters; ++i)
                hs.push_back(rt::spawn(wait_and_count(&n, &woken)));
            co_await rt::yield_now();
            std::vector<rt::join_handle<void>> notifiers;
            for (int t = 0; t < 10; ++t) {
                notifiers.push_back(rt::spawn_blocking([&n] {
                    for (int i = 0; i < waiters / 10; ++i)
                        n.notify_one();
                }));
            }
            for (auto& h : notifiers)
                co_await h;
            for (auto& h : hs)
                co_await h;
            EXPECT_EQ(woken.load(), waiters);
        }());
    }());
}

} // namespace
