// rt::join_error: why awaiting a join_handle gave no value.
//
// Either the task was cancelled (aborted, or the runtime shut down first), or it "panicked":
// it let an exception escape, which join_error keeps so the joiner can rethrow or inspect it.
#pragma once

#include <exception>
#include <string>

namespace rt {

class join_error {
public:
    static join_error cancelled() { return join_error{nullptr}; }
    static join_error panic(std::exception_ptr e) { return join_error{std::move(e)}; }

    bool is_cancelled() const noexcept { return !error_; }
    bool is_panic() const noexcept { return static_cast<bool>(error_); }
    /// The exception the task threw; null when cancelled.
    const std::exception_ptr& panic_payload() const noexcept { return error_; }
    /// "task was cancelled", or the thrown exception's what() (or a note that it was not a
    /// std::exception).
    std::string what() const;
    /// Rethrows the task's exception; std::logic_error when the task was cancelled instead.
    [[noreturn]] void rethrow() const;

private:
    explicit join_error(std::exception_ptr e) : error_(std::move(e)) {}
    std::exception_ptr error_;
};

} // namespace rt
