// Holds what a piece of work produced: nothing yet, a value, or the exception it threw.
// Shared by task promises and blocking calls so join handles read both the same way.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace rt::detail {

template <class T>
class result_storage {
public:
    template <class U>
    void set_value(U&& v) {
        data_.template emplace<1>(std::forward<U>(v));
    }
    void set_exception(std::exception_ptr e) noexcept { data_.template emplace<2>(std::move(e)); }
    /// Back to empty (the value was handed out).
    void reset() noexcept { data_.template emplace<0>(); }
    /// Takes over what `o` holds (value or exception); `o` keeps a moved-from value.
    void move_from(result_storage& o) {
        if (o.data_.index() == 1)
            set_value(std::move(std::get<1>(o.data_)));
        else if (o.data_.index() == 2)
            set_exception(std::get<2>(o.data_));
    }

    bool has_value() const noexcept { return data_.index() == 1; }
    bool has_exception() const noexcept { return data_.index() == 2; }
    bool empty() const noexcept { return data_.index() == 0; }
    const std::exception_ptr& exception() const noexcept { return std::get<2>(data_); }

    /// Moves the value out, or rethrows the stored exception.
    T take() {
        if (data_.index() == 2)
            std::rethrow_exception(std::get<2>(data_));
        return std::move(std::get<1>(data_));
    }

private:
    std::variant<std::monostate, T, std::exception_ptr> data_;
};

template <>
class result_storage<void> {
public:
    void set_value() noexcept { state_ = 1; }
    void set_exception(std::exception_ptr e) noexcept {
        error_ = std::move(e);
        state_ = 2;
    }
    void move_from(result_storage& o) noexcept {
        error_ = o.error_;
        state_ = o.state_;
    }
    bool has_value() const noexcept { return state_ == 1; }
    bool has_exception() const noexcept { return state_ == 2; }
    bool empty() const noexcept { return state_ == 0; }
    const std::exception_ptr& exception() const noexcept { return error_; }
    void take() {
        if (state_ == 2)
            std::rethrow_exception(error_);
    }

private:
    std::exception_ptr error_;
    unsigned char state_ = 0;
};

} // namespace rt::detail
