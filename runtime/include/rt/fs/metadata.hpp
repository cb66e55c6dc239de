// rt::fs::file_metadata: what stat(2) says about a file (rt::fs::metadata, file::metadata).
//
//     auto m = co_await rt::fs::metadata("/etc/fstab");
//     if (m && m->is_file()) std::cout << m->len() << " bytes\n";
#pragma once

#include <chrono>
#include <cstdint>

namespace rt::fs {

class file_metadata {
public:
    enum class file_type : std::uint8_t { regular, directory, symlink, other };

    file_metadata() noexcept = default;
    file_metadata(file_type type, std::uint64_t len, std::uint32_t mode,
                  std::chrono::system_clock::time_point modified) noexcept
        : type_(type), len_(len), mode_(mode), modified_(modified) {}

    file_type type() const noexcept { return type_; }
    bool is_file() const noexcept { return type_ == file_type::regular; }
    bool is_dir() const noexcept { return type_ == file_type::directory; }
    bool is_symlink() const noexcept { return type_ == file_type::symlink; }
    /// Size in bytes.
    std::uint64_t len() const noexcept { return len_; }
    /// Permission bits (st_mode & 07777).
    std::uint32_t permissions() const noexcept { return mode_; }
    std::chrono::system_clock::time_point modified() const noexcept { return modified_; }

private:
    file_type type_ = file_type::other;
    std::uint64_t len_ = 0;
    std::uint32_t mode_ = 0;
    std::chrono::system_clock::time_point modified_{};
};

} // namespace rt::fs
