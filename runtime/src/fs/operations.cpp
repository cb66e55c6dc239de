#include "rt/fs/operations.hpp"

#include "fs/blocking_call.hpp"
#include "fs/ring_file.hpp"
#include "rt/fs/file.hpp"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace rt::fs {

namespace {

// Reads a whole file into `out` (std::string or std::vector<std::byte>).
template <class Buffer>
io_result<Buffer> slurp(const std::filesystem::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rt::detail::last_error();
    Buffer out;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0)
        out.reserve(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t chunk = 64 * 1024;
    for (;;) {
        std::size_t old = out.size();
        out.resize(old + chunk);
        ssize_t r = ::read(fd, out.data() + old, chunk);
        if (r < 0 && errno == EINTR) {
            out.resize(old);
            continue;
        }
        if (r < 0) {
            auto err = rt::detail::last_error();
            ::close(fd);
            return err;
        }
        out.resize(old + static_cast<std::size_t>(r));
        if (r == 0)
            break;
    }
    ::close(fd);
    return out;
}

// io_uring: open on the blocking pool, then reads through the ring until end of file.
template <class Buffer>
rt::task<io_result<Buffer>> slurp_ring(std::filesystem::path path) {
    auto f = co_await file::open(std::move(path));
    if (!f)
        co_return unexpected(f.error());
    Buffer out;
    std::size_t chunk = 256 * 1024;
    for (;;) {
        std::size_t old = out.size();
        out.resize(old + chunk);
        auto n = co_await f->read(std::as_writable_bytes(std::span(out.data() + old, chunk)));
        out.resize(old + (n ? *n : 0));
        if (!n)
            co_return unexpected(n.error());
        if (*n == 0)
            co_return out;
        chunk = std::min<std::size_t>(chunk * 2, 1024 * 1024);
    }
}

rt::task<io_result<void>> write_owned(std::filesystem::path path, std::vector<std::byte> data) {
    if (detail::ring_driver() != nullptr) {
        auto f = co_await file::create(std::move(path));
        if (!f)
            co_return unexpected(f.error());
        co_return co_await f->write_all(data);
    }
    auto job = [p = std::move(path), d = std::move(data)]() -> io_result<void> {
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0)
            return rt::detail::last_error();
        const std::byte* q = d.data();
        std::size_t n = d.size();
        while (n > 0) {
            ssize_t w = ::write(fd, q, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                auto err = rt::detail::last_error();
                ::close(fd);
                return err;
            }
            q += w;
            n -= static_cast<std::size_t>(w);
        }
        if (::close(fd) != 0)
            return rt::detail::last_error();
        return {};
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::write");
}

} // namespace

rt::task<io_result<std::string>> read_to_string(std::filesystem::path path) {
    if (detail::ring_driver() != nullptr)
        co_return co_await slurp_ring<std::string>(std::move(path));
    auto job = [p = std::move(path)] { return slurp<std::string>(p); };
    co_return co_await detail::blocking_call(std::move(job), "fs::read_to_string");
}

rt::task<io_result<std::vector<std::byte>>> read(std::filesystem::path path) {
    if (detail::ring_driver() != nullptr)
        co_return co_await slurp_ring<std::vector<std::byte>>(std::move(path));
    auto job = [p = std::move(path)] { return slurp<std::vector<std::byte>>(p); };
    co_return co_await detail::blocking_call(std::move(job), "fs::read");
}

rt::task<io_result<void>> write(std::filesystem::path path, std::span<const std::byte> data) {
    // Copied now: the coroutine runs later, when the caller's buffer may be gone.
    return write_owned(std::move(path), std::vector<std::byte>(data.begin(), data.end()));
}

rt::task<io_result<void>> write(std::filesystem::path path, std::string_view data) {
    return write(std::move(path), std::as_bytes(std::span(data.data(), data.size())));
}

rt::task<io_result<void>> create_dir_all(std::filesystem::path path) {
    auto job = [p = std::move(path)]() -> io_result<void> {
        std::error_code ec;
        std::filesystem::create_directories(p, ec);
        if (ec)
            return unexpected(ec);
        // create_directories reports success when the path exists as a non-directory too.
        if (!std::filesystem::is_directory(p, ec))
            return rt::detail::make_error(ec ? ec.value() : ENOTDIR);
        return {};
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::create_dir_all");
}

rt::task<io_result<void>> remove_file(std::filesystem::path path) {
    if (detail::ring_driver() != nullptr)
        co_return co_await detail::ring_unlink(path.string());
    auto job = [p = std::move(path)]() -> io_result<void> {
        if (::unlink(p.c_str()) != 0)
            return rt::detail::last_error();
        return {};
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::remove_file");
}

rt::task<io_result<file_metadata>> metadata(std::filesystem::path path) {
    if (detail::ring_driver() != nullptr)
        co_return co_await detail::ring_metadata(nullptr, path.string());
    auto job = [p = std::move(path)]() -> io_result<file_metadata> {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0)
            return rt::detail::last_error();
        return detail::to_metadata(st);
    };
    co_return co_await detail::blocking_call(std::move(job), "fs::metadata");
}

} // namespace rt::fs
