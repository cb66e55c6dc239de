#include "rt/fs/file.hpp"

#include "fs/blocking_call.hpp"
#include "fs/ring_file.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rt::fs {

namespace detail {
file_handle::~file_handle() {
    if (fd >= 0)
        ::close(fd);
}
} // namespace detail

namespace {
using handle_ptr = std::shared_ptr<detail::file_handle>;

io_result<std::size_t> read_retry(int fd, std::byte* p, std::size_t n) {
    for (;;) {
        ssize_t r = ::read(fd, p, n);
        if (r >= 0)
            return static_cast<std::size_t>(r);
        if (errno != EINTR)
            return rt::detail::last_error();
    }
}

io_result<std::size_t> write_retry(int fd, const std::byte* p, std::size_t n) {
    for (;;) {
        ssize_t r = ::write(fd, p, n);
        if (r >= 0)
            return static_cast<std::size_t>(r);
        if (errno != EINTR)
            return rt::detail::last_error();
    }
}

io_result<void> write_fully(int fd, const std::byte* p, std::size_t n) {
    while (n > 0) {
        auto w = write_retry(fd, p, n);
        if (!w)
            return unexpected(w.error());
        p += *w;
        n -= *w;
    }
    return {};
}
} // namespace

rt::task<io_result<file>> file::open_flags(std::filesystem::path path, int flags) {
    if (detail::ring_driver() != nullptr) {
        auto fd = co_await detail::ring_open(path.string(), flags, 0666);
        if (!fd)
            co_return unexpected(fd.error());
        auto h = std::make_shared<detail::file_handle>(*fd);
        h->stream = ::lseek(*fd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
        co_return file(std::move(h));
    }
    auto job = [p = std::move(path), flags]() -> io_result<handle_ptr> {
        int fd = ::open(p.c_str(), flags | O_CLOEXEC, 0666);
        if (fd < 0)
            return rt::detail::last_error();
        auto h = std::make_shared<detail::file_handle>(fd);
        h->stream = ::lseek(fd, 0, SEEK_CUR) < 0 && errno == ESPIPE;
        return h;
    };
    auto h = co_await detail::blocking_call(std::move(job), "fs::open");
    if (!h)
        co_return unexpected(h.error());
    co_return file(std::move(*h));
}

rt::task<io_result<file>> file::open(std::filesystem::path path) {
    return open_flags(std::move(path), O_RDONLY);
}

rt::task<io_result<file>> file::create(std::filesystem::path path) {
    return open_flags(std::move(path), O_WRONLY | O_CREAT | O_TRUNC);
}

rt::task<io_result<std::size_t>> file::read(std::span<std::byte> buf) {
    if (!handle_)
        co_return rt::detail::make_error(EBADF);
    if (detail::ring_driver() != nullptr)
        co_return co_await detail::ring_read(handle_, buf);
    auto job = [h = handle_, n = buf.size()]() -> io_result<std::vector<std::byte>> {
        std::vector<std::byte> tmp(n);
        auto r = read_retry(h->fd, tmp.data(), n);
        if (!r)
            return unexpected(r.error());
        tmp.resize(*r);
        return tmp;
    };
    auto got = co_await detail::blocking_call(std::move(job), "fs::file::read");
    if (!got)
        co_return unexpected(got.error());
    if (!got->empty())
        std::memcpy(buf.data(), got->data(), got->size());
    co_return got->size();
}

rt::task<io_result<std::size_t>> file::write(std::span<const std::byte> buf) {
    if (!handle_)
        co_return rt::detail::make_error(EBADF);
    if (detail::ring_driver() != nullptr)
        co_return co_await detail::ring_write(handle_, buf);
    auto job = [h = handle_, data = std::vector<std::byte>(buf.begin(), buf.end())] {
        return write_retry(h->fd, data.data(), data.size());
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::file::write");
}

rt::task<io_result<void>> file::write_all(std::span<const std::byte> buf) {
    if (!handle_)
        co_return rt::detail::make_error(EBADF);
    if (detail::ring_driver() != nullptr) {
        while (!buf.empty()) {
            auto n = co_await detail::ring_write(handle_, buf);
            if (!n)
                co_return unexpected(n.error());
            if (*n == 0)
                co_return rt::detail::make_error(EIO); // a regular file that takes nothing
            buf = buf.subspan(*n);
        }
        co_return io_result<void>{};
    }
    auto job = [h = handle_, data = std::vector<std::byte>(buf.begin(), buf.end())] {
        return write_fully(h->fd, data.data(), data.size());
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::file::write_all");
}

rt::task<io_result<void>> file::write_all(std::string_view text) {
    return write_all(std::as_bytes(std::span(text.data(), text.size())));
}

rt::task<io_result<std::size_t>> file::read_to_string(std::string& out) {
    if (!handle_)
        co_return rt::detail::make_error(EBADF);
    if (detail::ring_driver() != nullptr) {
        std::size_t total = 0;
        std::size_t chunk = 256 * 1024;
        for (;;) {
            std::size_t old = out.size();
            out.resize(old + chunk);
            auto n = co_await detail::ring_read(
                handle_, std::as_writable_bytes(std::span(out.data() + old, chunk)));
            out.resize(old + (n ? *n : 0));
            if (!n)
                co_return unexpected(n.error());
            if (*n == 0)
                co_return total;
            total += *n;
            chunk = std::min<std::size_t>(chunk * 2, 1024 * 1024);
        }
    }
    auto job = [h = handle_]() -> io_result<std::string> {
        std::string s;
        std::size_t chunk = 64 * 1024;
        for (;;) {
            std::size_t old = s.size();
            s.resize(old + chunk);
            auto r = read_retry(h->fd, reinterpret_cast<std::byte*>(s.data() + old), chunk);
            if (!r)
                return unexpected(r.error());
            s.resize(old + *r);
            if (*r == 0)
                return s;
        }
    };
    auto got = co_await detail::blocking_call(std::move(job), "fs::file::read_to_string");
    if (!got)
        co_return unexpected(got.error());
    out += *got;
    co_return got->size();
}

rt::task<io_result<void>> file::sync_all() {
    if (!handle_)
        co_return rt::detail::make_error(EBADF);
    if (detail::ring_driver() != nullptr)
        co_return co_await detail::ring_fsync(handle_);
    auto job = [h = handle_]() -> io_result<void> {
        if (::fsync(h->fd) != 0)
            return rt::detail::last_error();
        return {};
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::file::sync_all");
}

rt::task<io_result<file_metadata>> file::metadata() {
    if (!handle_)
        co_return rt::detail::make_error(EBADF);
    if (detail::ring_driver() != nullptr)
        co_return co_await detail::ring_metadata(handle_, std::string());
    auto job = [h = handle_]() -> io_result<file_metadata> {
        struct stat st {};
        if (::fstat(h->fd, &st) != 0)
            return rt::detail::last_error();
        return detail::to_metadata(st);
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::file::metadata");
}

} // namespace rt::fs
