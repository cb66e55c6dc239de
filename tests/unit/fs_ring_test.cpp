// rt::fs through the io_uring ring (and the same calls on the blocking pool under epoll):
// multi-megabyte files written and read whole and in pieces, which path served them, and what a
// dropped file read leaves behind.
#include "io_backends.hpp"

#include <algorithm>
#include <array>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

class fs_ring : public rt_test::io_backend_test {
protected:
    void SetUp() override {
        std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(name.begin(), name.end(), '/', '_');
        dir_ = std::filesystem::path(testing::TempDir()) /
               ("rt_fs_ring_" + std::to_string(::getpid()) + "_" + name);
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
};
RT_IO_BACKEND_SUITE(fs_ring);

std::vector<std::byte> pattern(std::size_t n, unsigned salt) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = std::byte{static_cast<unsigned char>((i * 13 + (i >> 11) + salt) & 0xff)};
    return v;
}

TEST_P(fs_ring, a_multi_megabyte_file_round_trips_through_the_backend_s_path) {
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir, rt::io_backend backend) -> rt::task<> {
        constexpr std::size_t size = (6u << 20) + 123;
        auto data = pattern(size, 1);
        auto whole = dir / "whole.bin";
        EXPECT_TRUE(co_await rt::fs::write(whole, data));
        auto back = co_await rt::fs::read(whole);
        RT_CO_ASSERT(back);
        EXPECT_TRUE(*back == data);
        auto s = co_await rt::fs::read_to_string(whole);
        RT_CO_ASSERT(s);
        EXPECT_EQ(s->size(), size);
        EXPECT_EQ(std::memcmp(s->data(), data.data(), size), 0);

        // In uneven pieces through rt::fs::file.
        auto pieces = dir / "pieces.bin";
        {
            auto f = co_await rt::fs::file::create(pieces);
            RT_CO_ASSERT(f);
            std::size_t off = 0;
            std::size_t step = 1;
            while (off < size) {
                std::size_t n = std::min(step, size - off);
                auto w = co_await f->write(std::span<const std::byte>(data.data() + off, n));
                RT_CO_ASSERT(w && *w > 0);
                off += *w;
                step = step * 3 + 7;
            }
            EXPECT_TRUE(co_await f->sync_all());
        }
        {
            auto f = co_await rt::fs::file::open(pieces);
            RT_CO_ASSERT(f);
            std::vector<std::byte> got;
            std::vector<std::byte> buf(100 * 1000);
            for (;;) {
                auto n = co_await f->read(buf);
                RT_CO_ASSERT(n);
                if (*n == 0)
                    break;
                got.insert(got.end(), buf.begin(), buf.begin() + *n);
            }
            EXPECT_TRUE(got == data);
            auto again = co_await f->read(buf);
            EXPECT_TRUE(again && *again == 0);
        }
        {
            auto f = co_await rt::fs::file::open(pieces);
            RT_CO_ASSERT(f);
            std::string all;
            auto n = co_await f->read_to_string(all);
            RT_CO_ASSERT(n);
            EXPECT_EQ(*n, size);
            EXPECT_EQ(std::memcmp(all.data(), data.data(), size), 0);
        }
        auto st = rt::introspect::snapshot().reactor;
        if (backend == rt::io_backend::io_uring) {
            EXPECT_GE(st.ring_file_writes, 6u); // 1 MiB per operation at most
            EXPECT_GE(st.ring_file_reads, 6u);
        } else {
            EXPECT_EQ(st.ring_file_writes, 0u);
            EXPECT_EQ(st.ring_file_reads, 0u);
        }
    }(dir_, GetParam()));
}

TEST_P(fs_ring, errors_come_back_as_values) {
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir) -> rt::task<> {
        auto missing = co_await rt::fs::read(dir / "missing");
        EXPECT_FALSE(missing);
        if (!missing) {
            EXPECT_EQ(missing.error().value(), ENOENT);
        }
        // Writing a file opened read-only: EBADF from the kernel, through either path.
        EXPECT_TRUE(co_await rt::fs::write(dir / "ro", std::string_view("x")));
        auto f = co_await rt::fs::file::open(dir / "ro");
        RT_CO_ASSERT(f);
        auto w = co_await f->write(rt_test::bytes("y"));
        EXPECT_FALSE(w);
        if (!w) {
            EXPECT_EQ(w.error().value(), EBADF);
        }
    }(dir_));
}

// Open, metadata, sync and unlink: the same answers on both paths, and on io_uring each went
// through the ring (OPENAT, STATX, FSYNC, UNLINKAT), none of them on epoll.
TEST_P(fs_ring, path_operations_give_the_same_answers_and_take_the_backend_s_path) {
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir, rt::io_backend backend) -> rt::task<> {
        auto before = rt::introspect::snapshot().reactor;
        auto path = dir / "meta.bin";
        {
            auto f = co_await rt::fs::file::create(path);
            RT_CO_ASSERT(f);
            EXPECT_TRUE(co_await f->write_all(std::string_view("twelve bytes")));
            EXPECT_TRUE(co_await f->sync_all());
            auto m = co_await f->metadata();
            RT_CO_ASSERT(m);
            EXPECT_TRUE(m->is_file());
            EXPECT_EQ(m->len(), 12u);
        }
        struct stat st {};
        EXPECT_EQ(::stat(path.c_str(), &st), 0);
        auto m = co_await rt::fs::metadata(path);
        RT_CO_ASSERT(m);
        EXPECT_TRUE(m->is_file());
        EXPECT_EQ(m->len(), 12u);
        EXPECT_EQ(m->permissions(), st.st_mode & 07777);
        auto since_epoch =
            std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
        EXPECT_EQ(m->modified().time_since_epoch(),
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
        auto d = co_await rt::fs::metadata(dir);
        RT_CO_ASSERT(d);
        EXPECT_TRUE(d->is_dir());

        EXPECT_TRUE(co_await rt::fs::remove_file(path));
        EXPECT_FALSE(std::filesystem::exists(path));
        auto gone = co_await rt::fs::metadata(path);
        EXPECT_FALSE(gone);
        if (!gone) {
            EXPECT_EQ(gone.error().value(), ENOENT);
        }
        auto again = co_await rt::fs::remove_file(path);
        EXPECT_FALSE(again);
        if (!again) {
            EXPECT_EQ(again.error().value(), ENOENT);
        }
        auto nofile = co_await rt::fs::file::open(dir / "missing");
        EXPECT_FALSE(nofile);
        if (!nofile) {
            EXPECT_EQ(nofile.error().value(), ENOENT);
        }
        auto isdir = co_await rt::fs::file::create(dir);
        EXPECT_FALSE(isdir);
        if (!isdir) {
            EXPECT_EQ(isdir.error().value(), EISDIR);
        }

        auto after = rt::introspect::snapshot().reactor;
        if (backend == rt::io_backend::io_uring) {
            EXPECT_EQ(after.ring_file_opens - before.ring_file_opens, 3u);
            EXPECT_EQ(after.ring_file_stats - before.ring_file_stats, 4u);
            EXPECT_EQ(after.ring_file_syncs - before.ring_file_syncs, 1u);
            EXPECT_EQ(after.ring_file_unlinks - before.ring_file_unlinks, 2u);
        } else {
            EXPECT_EQ(after.ring_file_opens + after.ring_file_stats + after.ring_file_syncs +
                          after.ring_file_unlinks,
                      0u);
        }
    }(dir_, GetParam()));
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

// Opens dropped at every moment (before, during and after the kernel's open) leave no descriptor
// behind: a cancelled OPENAT that still opened the file, or one that completed after its await
// was gone, is closed.
TEST_P(fs_ring, dropped_opens_leak_no_descriptor) {
    auto r = make_runtime();
    auto path = dir_ / "target.txt";
    {
        std::FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fputs("x", f);
        std::fclose(f);
    }
    const std::size_t fds = open_descriptors();
    auto opened = r.block_on([](std::filesystem::path p) -> rt::task<int> {
        int ok = 0;
        std::minstd_rand rng(7);
        for (int i = 0; i < 1000; ++i) {
            if (i % 2 == 0) {
                auto t = co_await rt::timeout(std::chrono::microseconds(rng() % 50),
                                              rt::fs::file::open(p));
                if (t && *t)
                    ++ok; // the file closes with the result
            } else {
                auto h = rt::spawn(rt::fs::file::open(p));
                for (unsigned k = rng() % 3; k > 0; --k)
                    co_await rt::yield_now();
                h.abort();
                auto res = co_await h;
                if (res && *res)
                    ++ok;
            }
        }
        // Cancelled operations finish on the reactor thread: wait for the ring to go quiet.
        co_await rt::sleep(std::chrono::milliseconds(50));
        co_return ok;
    }(path));
    EXPECT_EQ(open_descriptors(), fds) << opened << " of 1000 opens completed";
}

// io_uring: a read dropped by abort is settled before the next operation, and counts for nothing
// unless its task saw the result: the file's position only moves by reads someone received.
TEST_P(fs_ring, an_aborted_read_moves_the_position_only_if_its_result_was_taken) {
    if (GetParam() != rt::io_backend::io_uring)
        GTEST_SKIP() << "the blocking pool runs a dropped read to its end";
    auto r = make_runtime();
    r.block_on([](std::filesystem::path dir) -> rt::task<> {
        constexpr std::size_t size = 4u << 20;
        auto data = pattern(size, 5);
        auto path = dir / "data.bin";
        EXPECT_TRUE(co_await rt::fs::write(path, data));
        auto f = co_await rt::fs::file::open(path);
        RT_CO_ASSERT(f);
        std::mt19937 rng(3);
        std::size_t pos = 0;
        int taken = 0, dropped = 0;
        while (pos + (128 << 10) < size) {
            auto seen = std::make_shared<std::size_t>(0);
            auto h =
                rt::spawn([](rt::fs::file* file, std::shared_ptr<std::size_t> out) -> rt::task<> {
                    std::vector<std::byte> buf(64 << 10);
                    auto n = co_await file->read(buf);
                    if (n)
                        *out = *n + 1; // no co_await from here: an abort cannot come in between
                }(&*f, seen));
            int pause = static_cast<int>(rng() % 4);
            for (int i = 0; i < pause; ++i)
                co_await rt::yield_now();
            h.abort();
            (void)co_await h;
            if (*seen > 0) {
                pos += *seen - 1;
                ++taken;
            } else {
                ++dropped;
            }
            // And one dropped for certain while its READ is on the ring: a zero deadline lets
            // the read submit and suspend, then wins.
            std::vector<std::byte> early(32 << 10);
            auto rd = f->read(early);
            auto timed = co_await rt::timeout(0ms, std::move(rd));
            if (timed) {
                RT_CO_ASSERT(*timed);
                pos += **timed;
            } else {
                ++dropped;
            }
            std::vector<std::byte> buf(64 << 10);
            auto n = co_await f->read(buf);
            RT_CO_ASSERT(n && *n > 0);
            RT_CO_ASSERT(std::equal(buf.begin(), buf.begin() + *n, data.begin() + pos));
            pos += *n;
        }
        EXPECT_GT(dropped + taken, 0);
    }(dir_));
}

// io_uring: a read from a pipe that has nothing to give is pending on the ring; dropping it
// cancels it, and the next read waits for that cancellation, then gets the data.
TEST_P(fs_ring, a_dropped_read_from_a_fifo_is_cancelled_and_the_next_read_gets_the_data) {
    auto r = make_runtime();
    auto path = dir_ / "fifo";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    // Held open for writing so the reader's open does not wait for a writer.
    int wfd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(wfd, 0);
    r.block_on([](std::filesystem::path p, int w, rt::io_backend backend) -> rt::task<> {
        auto f = co_await rt::fs::file::open(p);
        RT_CO_ASSERT(f);
        std::array<std::byte, 16> buf;
        if (backend == rt::io_backend::io_uring) {
            // (The blocking pool cannot drop a read(2) that blocks: only the ring is tried.)
            auto rd = f->read(buf);
            EXPECT_FALSE(co_await rt::timeout(5ms, std::move(rd)));
            EXPECT_GE(rt::introspect::snapshot().reactor.ring_cancels, 1u);
        }
        EXPECT_EQ(::write(w, "abc", 3), 3);
        auto n = co_await f->read(buf);
        RT_CO_ASSERT(n);
        EXPECT_EQ(rt_test::text(std::span(buf.data(), *n)), "abc");
    }(path, wfd, GetParam()));
    ::close(wfd);
}

} // namespace
