// lookup_host: getaddrinfo on the blocking pool; literals need no lookup; errors are values.
#include "io_backends.hpp"

namespace {

class net_dns : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(net_dns);

TEST_P(net_dns, localhost_resolves_to_a_loopback_address_with_the_port) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto addrs = co_await rt::net::lookup_host("localhost:8080");
        EXPECT_TRUE(addrs) << addrs.error().message();
        if (!addrs)
            co_return;
        EXPECT_FALSE(addrs->empty());
        for (auto& a : *addrs) {
            EXPECT_EQ(a.port(), 8080);
            EXPECT_TRUE(a.ip() == "127.0.0.1" || a.ip() == "::1") << a.to_string();
        }
    }());
}

TEST_P(net_dns, a_connect_by_name_reaches_a_local_listener) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto l = rt::net::tcp_listener::bind("127.0.0.1:0");
        auto port = l->local_addr()->port();
        auto accepting = l->accept();
        auto acc = rt::spawn(std::move(accepting));
        std::string name = "localhost:" + std::to_string(port);
        auto s = co_await rt::net::tcp_stream::connect(name);
        EXPECT_TRUE(s) << s.error().message();
        auto c = co_await acc;
        EXPECT_TRUE(c && *c);
    }());
}

TEST_P(net_dns, literals_and_bad_input) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto v6 = co_await rt::net::lookup_host("[::1]:443");
        EXPECT_TRUE(v6);
        EXPECT_EQ(v6->size(), 1u);
        EXPECT_EQ(v6->front().to_string(), "[::1]:443");
        auto no_port = co_await rt::net::lookup_host("localhost");
        EXPECT_FALSE(no_port);
        auto unknown = co_await rt::net::lookup_host("no-such-host.invalid:1");
        EXPECT_FALSE(unknown);
        if (!unknown) {
            EXPECT_EQ(&unknown.error().category(), &rt::net::resolve_category());
            EXPECT_FALSE(unknown.error().message().empty());
        }
    }());
}

TEST(net_socket_address, parses_and_prints_ipv4_and_ipv6) {
    auto a = rt::net::socket_address::parse("10.1.2.3:65535");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_ipv4());
    EXPECT_EQ(a->port(), 65535);
    EXPECT_EQ(a->to_string(), "10.1.2.3:65535");
    auto b = rt::net::socket_address::parse("[fe80::1]:80");
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->is_ipv6());
    EXPECT_EQ(b->to_string(), "[fe80::1]:80");
    for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "::1:80", "[::1]80",
                            "host:80", "1.2.3:80", "[::1]:x"})
        EXPECT_FALSE(rt::net::socket_address::parse(bad)) << bad;
}

} // namespace
