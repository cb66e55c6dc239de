// UDP sockets: send_to/recv_from between two sockets, connected send/recv, cancel-safe recv.
#include "io_backends.hpp"

#include <array>

using namespace std::chrono_literals;
using rt_test::bytes;
using rt_test::text;

namespace {

class net_udp : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(net_udp);

TEST_P(net_udp, send_to_and_recv_from_carry_datagrams_and_addresses) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto a = rt::net::udp_socket::bind("127.0.0.1:0");
        auto b = rt::net::udp_socket::bind("127.0.0.1:0");
        RT_CO_ASSERT(a && b);
        auto a_addr = *a->local_addr();
        auto b_addr = *b->local_addr();
        for (int i = 0; i < 50; ++i) {
            std::string msg = "datagram " + std::to_string(i);
            auto sent = co_await a->send_to(bytes(msg), b_addr);
            EXPECT_EQ(*sent, msg.size());
            std::array<std::byte, 128> buf;
            auto got = co_await b->recv_from(buf);
            EXPECT_TRUE(got);
            EXPECT_EQ(text(std::span(buf.data(), got->first)), msg);
            EXPECT_EQ(got->second, a_addr);
        }
    }());
}

TEST_P(net_udp, connected_sockets_send_and_recv) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto a = rt::net::udp_socket::bind("[::1]:0");
        auto b = rt::net::udp_socket::bind("[::1]:0");
        RT_CO_ASSERT(a && b);
        EXPECT_TRUE(a->connect(*b->local_addr()));
        EXPECT_TRUE(b->connect(a->local_addr()->to_string()));
        EXPECT_EQ(*a->peer_addr(), *b->local_addr());
        // The receiver waits first: recv must suspend and be woken by the datagram.
        auto h = rt::spawn([](rt::net::udp_socket* s) -> rt::task<std::string> {
            std::array<std::byte, 64> buf;
            auto n = co_await s->recv(buf);
            co_return n ? text(std::span(buf.data(), *n)) : "error";
        }(&*b));
        co_await rt::sleep(5ms);
        auto sent = co_await a->send(bytes("ping"));
        EXPECT_EQ(*sent, 4u);
        auto got = co_await h;
        EXPECT_EQ(*got, "ping");
    }());
}

TEST_P(net_udp, a_timed_out_recv_loses_no_datagram) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto a = rt::net::udp_socket::bind("127.0.0.1:0");
        auto b = rt::net::udp_socket::bind("127.0.0.1:0");
        std::array<std::byte, 64> buf;
        auto first = b->recv_from(buf);
        auto timed = co_await rt::timeout(10ms, std::move(first));
        EXPECT_FALSE(timed);
        EXPECT_TRUE(co_await a->send_to(bytes("one"), *b->local_addr()));
        EXPECT_TRUE(co_await a->send_to(bytes("two"), *b->local_addr()));
        auto x = co_await b->recv_from(buf);
        EXPECT_EQ(text(std::span(buf.data(), x->first)), "one");
        auto y = co_await b->recv_from(buf);
        EXPECT_EQ(text(std::span(buf.data(), y->first)), "two");
    }());
}

} // namespace
