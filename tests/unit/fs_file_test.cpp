// rt::fs: whole-file helpers, rt::fs::file, directories and metadata, on the blocking pool.
#include "io_backends.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <unistd.h>

using rt_test::bytes;

namespace {

class fs_file : public rt_test::io_backend_test {
protected:
    void SetUp() override {
        std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(name.begin(), name.end(), '/', '_');
        dir_ = std::filesystem::path(testing::TempDir()) /
               ("rt_fs_" + std::to_string(::getpid()) + "_" + name);
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
};
RT_IO_BACKEND_SUITE(fs_file);

std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = std::byte{static_cast<unsigned char>((i * 2654435761u) >> 13)};
    return v;
}

TEST_P(fs_file, a_multi_megabyte_file_round_trips) {
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir) -> rt::task<> {
        EXPECT_TRUE(co_await rt::fs::create_dir_all(dir / "a" / "b"));
        EXPECT_TRUE(co_await rt::fs::create_dir_all(dir / "a" / "b")); // already there: fine
        auto path = dir / "a" / "b" / "data.bin";
        auto data = pattern(5u << 20);
        EXPECT_TRUE(co_await rt::fs::write(path, data));
        auto back = co_await rt::fs::read(path);
        EXPECT_TRUE(back);
        EXPECT_TRUE(*back == data);
        auto m = co_await rt::fs::metadata(path);
        EXPECT_TRUE(m);
        EXPECT_TRUE(m->is_file());
        EXPECT_EQ(m->len(), data.size());
        auto dm = co_await rt::fs::metadata(dir / "a");
        EXPECT_TRUE(dm && dm->is_dir());
        EXPECT_TRUE(co_await rt::fs::remove_file(path));
        auto gone = co_await rt::fs::metadata(path);
        EXPECT_FALSE(gone);
        if (!gone) {
            EXPECT_EQ(gone.error(), std::errc::no_such_file_or_directory);
        }
    }(dir_));
}

TEST_P(fs_file, file_create_write_then_open_read_to_string) {
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir) -> rt::task<> {
        EXPECT_TRUE(co_await rt::fs::create_dir_all(dir));
        auto path = dir / "text.txt";
        {
            auto f = co_await rt::fs::file::create(path);
            RT_CO_ASSERT(f);
            std::string line;
            for (int i = 0; i < 10'000; ++i) {
                line = "line " + std::to_string(i) + "\n";
                EXPECT_TRUE(co_await f->write_all(line));
            }
            EXPECT_TRUE(co_await f->sync_all());
        }
        auto f = co_await rt::fs::file::open(path);
        RT_CO_ASSERT(f);
        std::array<std::byte, 7> head;
        auto n = co_await f->read(head);
        EXPECT_EQ(*n, 7u);
        EXPECT_EQ(rt_test::text(head), "line 0\n");
        std::string rest = "prefix:";
        auto got = co_await f->read_to_string(rest);
        RT_CO_ASSERT(got);
        auto whole = co_await rt::fs::read_to_string(path);
        RT_CO_ASSERT(whole);
        EXPECT_EQ(*got + 7, whole->size());
        EXPECT_EQ(rest, "prefix:" + whole->substr(7));
        auto m = co_await f->metadata();
        EXPECT_EQ(m->len(), whole->size());
        std::array<std::byte, 4> more;
        auto eof = co_await f->read(more);
        EXPECT_EQ(*eof, 0u);
    }(dir_));
}

TEST_P(fs_file, errors_are_values) {
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir) -> rt::task<> {
        auto missing = co_await rt::fs::read_to_string(dir / "nope");
        EXPECT_FALSE(missing);
        if (!missing) {
            EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
        }
        auto f = co_await rt::fs::file::open(dir / "nope");
        EXPECT_FALSE(f);
        auto rm = co_await rt::fs::remove_file(dir / "nope");
        EXPECT_FALSE(rm);
        EXPECT_TRUE(co_await rt::fs::create_dir_all(dir));
        EXPECT_TRUE(co_await rt::fs::write(dir / "file", "x"));
        auto under_file = co_await rt::fs::create_dir_all(dir / "file" / "sub");
        EXPECT_FALSE(under_file);
        auto dir_as_file = co_await rt::fs::read_to_string(dir);
        EXPECT_FALSE(dir_as_file);
        if (!dir_as_file) {
            EXPECT_EQ(dir_as_file.error(), std::errc::is_a_directory);
        }
        rt::fs::file closed;
        std::array<std::byte, 1> b;
        auto bad = co_await closed.read(b);
        EXPECT_FALSE(bad);
    }(dir_));
}

} // namespace
