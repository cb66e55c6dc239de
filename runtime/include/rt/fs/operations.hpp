// Whole-file and directory operations of rt::fs, each one awaited. On the io_uring backend
// read, read_to_string and write open the file and move the bytes through the ring
// (rt::fs::file: OPENAT, READ, WRITE), metadata is a STATX and remove_file an UNLINKAT;
// create_dir_all (a walk up the path) and everything on epoll run on the blocking pool:
//
//     auto text = co_await rt::fs::read_to_string("/etc/hostname");     // io_result<std::string>
//     co_await rt::fs::write("out.bin", bytes);                         // creates or truncates
//     co_await rt::fs::create_dir_all("a/b/c");
//     auto m = co_await rt::fs::metadata("out.bin");
//
// Paths are copied when the call is made, so a temporary is fine. Errors carry the errno
// (ENOENT, EACCES, EISDIR...). Not cancel-safe: a dropped call still runs to its end on the
// blocking pool (a write still happens), or on io_uring stops where it was cancelled (a write
// may leave a partial file, an unlink may or may not happen); only its result is lost.
#pragma once

#include "rt/fs/metadata.hpp"
#include "rt/io/io_result.hpp"
#include "rt/task/task.hpp"

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rt::fs {

[[nodiscard("co_await it")]] rt::task<io_result<std::string>>
read_to_string(std::filesystem::path path);
[[nodiscard("co_await it")]] rt::task<io_result<std::vector<std::byte>>>
read(std::filesystem::path path);
/// Creates or truncates `path` and writes all of `data` (copied when the call is made).
[[nodiscard("co_await it")]] rt::task<io_result<void>> write(std::filesystem::path path,
                                                             std::span<const std::byte> data);
[[nodiscard("co_await it")]] rt::task<io_result<void>> write(std::filesystem::path path,
                                                             std::string_view data);
/// Creates `path` and any missing parents; success if it already is a directory.
[[nodiscard("co_await it")]] rt::task<io_result<void>> create_dir_all(std::filesystem::path path);
[[nodiscard("co_await it")]] rt::task<io_result<void>> remove_file(std::filesystem::path path);
/// stat(2), following symlinks.
[[nodiscard("co_await it")]] rt::task<io_result<file_metadata>>
metadata(std::filesystem::path path);

} // namespace rt::fs
