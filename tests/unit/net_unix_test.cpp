// Unix-domain stream sockets: listener/connect echo, socket pairs, errors.
#include "io_backends.hpp"

#include <array>
#include <unistd.h>

using rt_test::bytes;
using rt_test::text;

namespace {

class net_unix : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(net_unix);

std::string socket_path(const char* tag) {
    return testing::TempDir() + "rt_" + tag + "_" + std::to_string(::getpid()) + ".sock";
}

TEST_P(net_unix, listener_and_stream_echo) {
    auto r = make_runtime();
    std::string path = socket_path("echo");
    ::unlink(path.c_str());
    r.block_on([](std::string p) -> rt::task<> {
        auto l = rt::net::unix_listener::bind(p);
        EXPECT_TRUE(l) << l.error().message();
        if (!l)
            co_return;
        EXPECT_EQ(l->local_addr()->to_string(), p);
        auto server = rt::spawn([](rt::net::unix_listener* listener) -> rt::task<> {
            auto c = co_await listener->accept();
            EXPECT_TRUE(c);
            std::array<std::byte, 256> buf;
            for (;;) {
                auto n = co_await c->first.read(buf);
                if (!n || *n == 0)
                    break;
                EXPECT_TRUE(
                    co_await c->first.write_all(std::span<const std::byte>(buf.data(), *n)));
            }
        }(&*l));
        auto s = co_await rt::net::unix_stream::connect(p);
        EXPECT_TRUE(s) << s.error().message();
        for (int i = 0; i < 20; ++i) {
            std::string msg = "unix " + std::to_string(i);
            EXPECT_TRUE(co_await s->write_all(msg));
            std::vector<std::byte> back(msg.size());
            EXPECT_TRUE(co_await s->read_exact(back));
            EXPECT_EQ(text(back), msg);
        }
        EXPECT_TRUE(s->shutdown(rt::net::shutdown_mode::write));
        co_await server;
        std::array<std::byte, 4> one;
        auto eof = co_await s->read(one);
        EXPECT_EQ(*eof, 0u);
    }(path));
    ::unlink(path.c_str());
}

TEST_P(net_unix, connecting_to_a_missing_path_is_an_error_value) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto s = co_await rt::net::unix_stream::connect("/nonexistent/dir/rt.sock");
        EXPECT_FALSE(s);
        if (!s) {
            EXPECT_EQ(s.error(), std::errc::no_such_file_or_directory);
        }
        auto too_long = rt::net::unix_listener::bind(std::string(200, 'x'));
        EXPECT_FALSE(too_long);
    }());
}

TEST_P(net_unix, a_pair_transfers_a_megabyte_both_ways) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto p = rt::net::unix_stream::pair();
        RT_CO_ASSERT(p);
        constexpr std::size_t size = 1u << 20;
        auto writer = rt::spawn([](rt::net::unix_stream s) -> rt::task<> {
            std::vector<std::byte> data(size);
            for (std::size_t i = 0; i < size; ++i)
                data[i] = std::byte{static_cast<unsigned char>(i * 7)};
            EXPECT_TRUE(co_await s.write_all(data));
            std::array<std::byte, 2> ack;
            EXPECT_TRUE(co_await s.read_exact(ack));
        }(std::move(p->first)));
        std::vector<std::byte> got(size);
        EXPECT_TRUE(co_await p->second.read_exact(got));
        bool same = true;
        for (std::size_t i = 0; i < size; ++i)
            same = same && got[i] == std::byte{static_cast<unsigned char>(i * 7)};
        EXPECT_TRUE(same);
        EXPECT_TRUE(co_await p->second.write_all("ok"));
        co_await writer;
    }());
}

} // namespace
