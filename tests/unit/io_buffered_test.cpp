// rt::io::buffered_reader and rt::io::copy over real sockets.
#include "io_backends.hpp"

#include <array>

using namespace std::chrono_literals;
using rt_test::bytes;

namespace {

class io_buffered : public rt_test::io_backend_test {};
RT_IO_BACKEND_SUITE(io_buffered);

static_assert(rt::io::async_reader<rt::net::tcp_stream>);
static_assert(rt::io::async_writer<rt::net::tcp_stream>);
static_assert(rt::io::async_reader<rt::io::buffered_reader<rt::net::unix_stream>>);
static_assert(rt::io::async_reader<rt::fs::file>);

TEST_P(io_buffered, read_line_splits_lines_across_reads_and_small_buffers) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto p = rt::net::unix_stream::pair();
        RT_CO_ASSERT(p);
        auto writer = rt::spawn([](rt::net::unix_stream s) -> rt::task<> {
            // Lines split over writes at odd places, one longer than the reader's buffer.
            for (std::string_view part : {"first li", "ne\nsecond line\nthi", "rd\n",
                                          "a-long-line-longer-than-eight-bytes\n", "no newline"}) {
                EXPECT_TRUE(co_await s.write_all(part));
                co_await rt::sleep(1ms);
            }
        }(std::move(p->first)));
        rt::io::buffered_reader reader(std::move(p->second), 8);
        std::vector<std::string> lines;
        std::string line;
        for (;;) {
            line.clear();
            auto n = co_await reader.read_line(line);
            RT_CO_ASSERT(n);
            if (*n == 0)
                break;
            EXPECT_EQ(*n, line.size());
            lines.push_back(line);
        }
        std::vector<std::string> want{"first line\n", "second line\n", "third\n",
                                      "a-long-line-longer-than-eight-bytes\n", "no newline"};
        EXPECT_EQ(lines, want);
        co_await writer;
    }());
}

TEST_P(io_buffered, a_timed_out_read_line_keeps_what_it_appended) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto p = rt::net::unix_stream::pair();
        RT_CO_ASSERT(p);
        rt::io::buffered_reader reader(std::move(p->second));
        EXPECT_TRUE(co_await p->first.write_all("hel"));
        std::string line;
        auto first = reader.read_line(line);
        auto timed = co_await rt::timeout(20ms, std::move(first));
        EXPECT_FALSE(timed);
        EXPECT_EQ(line, "hel");
        EXPECT_TRUE(co_await p->first.write_all("lo\nnext\n"));
        auto n = co_await reader.read_line(line);
        EXPECT_EQ(*n, 3u);
        EXPECT_EQ(line, "hello\n");
        line.clear();
        EXPECT_EQ(*co_await reader.read_line(line), 5u);
        EXPECT_EQ(line, "next\n");
    }());
}

TEST_P(io_buffered, copy_moves_a_stream_until_eof) {
    auto r = make_runtime();
    r.block_on([]() -> rt::task<> {
        auto in = rt::net::unix_stream::pair();
        auto out = rt::net::unix_stream::pair();
        RT_CO_ASSERT(in && out);
        constexpr std::size_t size = 3u << 20;
        auto producer = rt::spawn([](rt::net::unix_stream s) -> rt::task<> {
            std::vector<std::byte> data(size);
            for (std::size_t i = 0; i < size; ++i)
                data[i] = std::byte{static_cast<unsigned char>(i % 253)};
            EXPECT_TRUE(co_await s.write_all(data));
        }(std::move(in->first)));
        auto copier = rt::spawn(
            [](rt::net::unix_stream from, rt::net::unix_stream to) -> rt::task<std::uint64_t> {
                auto n = co_await rt::io::copy(from, to);
                EXPECT_TRUE(n);
                EXPECT_TRUE(to.shutdown(rt::net::shutdown_mode::write));
                co_return n ? *n : 0;
            }(std::move(in->second), std::move(out->first)));
        std::vector<std::byte> got(size);
        EXPECT_TRUE(co_await out->second.read_exact(got));
        bool same = true;
        for (std::size_t i = 0; i < size; ++i)
            same = same && got[i] == std::byte{static_cast<unsigned char>(i % 253)};
        EXPECT_TRUE(same);
        std::array<std::byte, 1> one;
        EXPECT_EQ(*co_await out->second.read(one), 0u);
        EXPECT_EQ(*co_await copier, size);
        co_await producer;
    }());
}

} // namespace
