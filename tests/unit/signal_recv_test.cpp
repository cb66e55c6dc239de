// rt::signal: a signal sent to the process wakes the task awaiting it.
#include "io_backends.hpp"

#include <csignal>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

class signal_recv : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(signal_recv);

TEST_P(signal_recv, kill_wakes_a_task_waiting_for_sigusr1) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::signal::listener::listen(SIGUSR1);
        RT_CO_ASSERT(l);
        auto h = rt::spawn([](rt::signal::listener* lis) -> rt::task<bool> {
            auto got = co_await lis->recv();
            co_return bool(got);
        }(&*l));
        // Not needed for correctness (counting started at listen); gives the task time to
        // suspend so the reactor's wake path is what completes it.
        co_await rt::sleep(10ms);
        EXPECT_EQ(::kill(::getpid(), SIGUSR1), 0);
        auto woke = co_await rt::timeout(10s, std::move(h));
        EXPECT_TRUE(woke);
        if (woke) {
            EXPECT_TRUE(*woke && **woke);
        }
    }());
}

TEST_P(signal_recv, every_listener_sees_a_delivery_and_deliveries_coalesce) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto a = rt::signal::listener::listen(SIGUSR2);
        auto b = rt::signal::listener::listen(SIGUSR2);
        RT_CO_ASSERT(a && b);
        for (int i = 0; i < 3; ++i)
            EXPECT_EQ(::raise(SIGUSR2), 0);
        EXPECT_TRUE(co_await a->recv());
        EXPECT_TRUE(co_await b->recv());
        // The three coalesced into one: a further recv waits for a new delivery.
        auto again = a->recv();
        auto none = co_await rt::timeout(30ms, std::move(again));
        EXPECT_FALSE(none);
        EXPECT_EQ(::raise(SIGUSR2), 0);
        auto after = a->recv();
        auto one = co_await rt::timeout(10s, std::move(after));
        EXPECT_TRUE(one);
    }());
}

TEST_P(signal_recv, ctrl_c_completes_on_sigint) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        // Installs the handler first, so the SIGINTs below cannot kill the test.
        auto guard = rt::signal::listener::listen(SIGINT);
        RT_CO_ASSERT(guard);
        auto h = rt::spawn(rt::signal::ctrl_c());
        // ctrl_c starts listening when the task first runs, so signal until it has seen one.
        for (int i = 0; i < 1000 && !h.is_finished(); ++i) {
            EXPECT_EQ(::raise(SIGINT), 0);
            co_await rt::sleep(5ms);
        }
        auto got = co_await rt::timeout(10s, std::move(h));
        EXPECT_TRUE(got);
        if (got) {
            EXPECT_TRUE(*got && **got);
        }
    }());
}

TEST(signal_listen, rejects_signals_that_cannot_be_caught) {
    auto r = rt::runtime::builder().worker_threads(1).build();
    r.block_on([]() -> rt::task<> {
        for (int bad : {0, -1, SIGKILL, SIGSTOP, 1000}) {
            auto l = rt::signal::listener::listen(bad);
            EXPECT_FALSE(l) << bad;
            if (!l) {
                EXPECT_EQ(l.error(), std::errc::invalid_argument);
            }
        }
        co_return;
    }());
}

} // namespace
