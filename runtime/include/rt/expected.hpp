// rt::expected<T, E>: either a value of type T or the error E that explains why there is none.
//
// rt returns ordinary failures as values instead of throwing them. I/O results are
// rt::io_result<T> = rt::expected<T, std::error_code>, and joining a task yields an expected that
// holds the task's result or the reason it has none. The caller tests, then unwraps:
//
//     rt::expected<std::size_t, std::error_code> n = read_some(fd, buf);
//     if (!n) return rt::unexpected(n.error());   // pass the error up, or handle it here
//     consume(buf, *n);
//
// value() throws rt::bad_expected_access<E> when there is an error instead; operator* and
// operator-> do not check. Names and semantics follow C++23 std::expected (the toolchains rt
// supports have no <expected>), so this header could later become a set of aliases. Two
// extensions: emplace() also accepts a throwing constructor when T is nothrow-movable, and
// operator== takes part in overload resolution only when the underlying == is valid.
#pragma once

#include <concepts>
#include <cstdlib>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>

namespace rt {

template <class E>
class unexpected;

template <class T, class E>
class expected;

// The tag that selects the error-constructing constructors of expected.
struct unexpect_t {
    explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

// The constraints of this header, named so that each requires-clause reads as one condition.
namespace detail {

template <class T>
inline constexpr bool is_unexpected = false;
template <class E>
inline constexpr bool is_unexpected<unexpected<E>> = true;

template <class T>
inline constexpr bool is_expected = false;
template <class T, class E>
inline constexpr bool is_expected<expected<T, E>> = true;

// What the standard allows as the E of an expected or an unexpected.
template <class E>
concept valid_error = std::is_object_v<E> && !std::is_array_v<E> && !std::is_const_v<E> &&
                      !std::is_volatile_v<E> && !is_unexpected<E>;

// What the standard allows as the T of an expected.
template <class T>
concept valid_value = std::is_void_v<T> ||
    (std::is_object_v<T> && !std::is_array_v<T> &&
     !std::is_same_v<std::remove_cv_t<T>, std::in_place_t> &&
     !std::is_same_v<std::remove_cv_t<T>, unexpect_t> && !is_unexpected<std::remove_cv_t<T>>);

// The argument through which an initializer_list constructor is reached.
template <class U>
using list_ref = std::initializer_list<U>&;

// Trait holds for both V and E.
template <template <class> class Trait, class V, class E>
concept both = Trait<V>::value && Trait<E>::value;

// Switching between value and error keeps the strong guarantee by parking one of the two in a
// temporary, which needs one of them to move without throwing.
template <class V, class E>
concept one_nothrow_movable =
    std::is_nothrow_move_constructible_v<V> || std::is_nothrow_move_constructible_v<E>;

template <class A, class B>
concept equality_comparable_to = requires(const A& a, const B& b) {
    { a == b } -> std::convertible_to<bool>;
};

template <class E, class Err>
concept unexpected_source =
    !std::is_same_v<std::remove_cvref_t<Err>, unexpected<E>> &&
    !std::is_same_v<std::remove_cvref_t<Err>, std::in_place_t> && std::is_constructible_v<E, Err>;

// expected<T, E> is implicitly built from a U that converts to T (explicitly if only
// constructible), unless U is a tag, an expected of this type or an unexpected.
template <class T, class E, class U>
concept value_source =
    !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t> &&
    !std::is_same_v<std::remove_cvref_t<U>, unexpect_t> &&
    !std::is_same_v<std::remove_cvref_t<U>, expected<T, E>> &&
    !is_unexpected<std::remove_cvref_t<U>> && std::is_constructible_v<T, U> &&
    (!std::is_same_v<std::remove_cv_t<T>, bool> || !is_expected<std::remove_cvref_t<U>>);

template <class T, class E, class U>
concept value_assignable = !std::is_same_v<std::remove_cvref_t<U>, expected<T, E>> &&
                           !is_unexpected<std::remove_cvref_t<U>> &&
                           std::is_constructible_v<T, U> && std::is_assignable_v<T&, U> &&
                           (std::is_nothrow_constructible_v<T, U> || one_nothrow_movable<T, E>);

// GF is const G& or G, for assignment from unexpected<G>.
template <class T, class E, class GF>
concept error_assignable = std::is_constructible_v<E, GF> && std::is_assignable_v<E&, GF> &&
    (std::is_nothrow_constructible_v<E, GF> || one_nothrow_movable<T, E>);

template <class T, class... Args>
concept emplaceable = std::is_constructible_v<T, Args...> &&
    (std::is_nothrow_constructible_v<T, Args...> || std::is_nothrow_move_constructible_v<T>);

template <class V, class E>
concept swappable_pair = both<std::is_swappable, V, E> && both<std::is_move_constructible, V, E> &&
    one_nothrow_movable<V, E>;

template <class V, class E>
concept nothrow_swappable_pair =
    both<std::is_nothrow_swappable, V, E> && both<std::is_nothrow_move_constructible, V, E>;

// T or E would convert from an expected<U, G> as a whole, which rules out the converting
// constructors from expected<U, G> (they would be ambiguous with constructing the value).
template <class T, class W>
concept converts_from_any_cvref = std::is_constructible_v<T, W&> || std::is_convertible_v<W&, T> ||
    std::is_constructible_v<T, W> || std::is_convertible_v<W, T> ||
    std::is_constructible_v<T, const W&> || std::is_convertible_v<const W&, T> ||
    std::is_constructible_v<T, const W> || std::is_convertible_v<const W, T>;

template <class E, class W>
concept unexpected_from_any_cvref =
    std::is_constructible_v<unexpected<E>, W&> || std::is_constructible_v<unexpected<E>, W> ||
    std::is_constructible_v<unexpected<E>, const W&> ||
    std::is_constructible_v<unexpected<E>, const W>;

// UF and GF are const U& and const G& (copy) or U and G (move).
template <class T, class E, class U, class G, class UF, class GF>
concept expected_convertible =
    std::is_constructible_v<T, UF> && std::is_constructible_v<E, GF> &&
    !unexpected_from_any_cvref<E, expected<U, G>> &&
    (std::is_same_v<std::remove_cv_t<T>, bool> || !converts_from_any_cvref<T, expected<U, G>>);

template <class E, class U, class G, class GF>
concept void_expected_convertible = std::is_void_v<U> && std::is_constructible_v<E, GF> &&
    !unexpected_from_any_cvref<E, expected<U, G>>;

template <class T, class E, class T2, class E2>
concept expected_comparable =
    !std::is_void_v<T2> && equality_comparable_to<T, T2> && equality_comparable_to<E, E2>;

template <class E, class T2, class E2>
concept void_expected_comparable = std::is_void_v<T2> && equality_comparable_to<E, E2>;

template <class T, class T2>
concept value_comparable = !is_expected<T2> && !is_unexpected<T2> && equality_comparable_to<T, T2>;

} // namespace detail

// An error on its way into an expected: `return rt::unexpected(ec);`.
template <class E>
class unexpected {
    static_assert(detail::valid_error<E>, "rt::unexpected<E>: E must be a non-array, non-cv "
                                          "object type that is not itself an unexpected");

    static constexpr bool can_swap = std::is_swappable_v<E>;
    static constexpr bool nothrow_swap = std::is_nothrow_swappable_v<E>;

public:
    constexpr unexpected(const unexpected&) = default;
    constexpr unexpected(unexpected&&) = default;

    template <class Err = E>
    requires detail::unexpected_source<E, Err>
    constexpr explicit unexpected(Err&& e) noexcept(std::is_nothrow_constructible_v<E, Err>)
        : err_(std::forward<Err>(e)) {}

    template <class... Args>
    requires std::is_constructible_v<E, Args...>
    constexpr explicit unexpected(std::in_place_t, Args&&... args) noexcept(
        std::is_nothrow_constructible_v<E, Args...>)
        : err_(std::forward<Args>(args)...) {}

    template <class U, class... Args>
    requires std::is_constructible_v<E, detail::list_ref<U>, Args...>
    constexpr explicit unexpected(std::in_place_t, std::initializer_list<U> il, Args&&... args)
        : err_(il, std::forward<Args>(args)...) {}

    constexpr unexpected& operator=(const unexpected&) = default;
    constexpr unexpected& operator=(unexpected&&) = default;

    constexpr const E& error() const& noexcept { return err_; }
    constexpr E& error() & noexcept { return err_; }
    constexpr const E&& error() const&& noexcept { return std::move(err_); }
    constexpr E&& error() && noexcept { return std::move(err_); }

    constexpr void swap(unexpected& other) noexcept(nothrow_swap) requires can_swap {
        using std::swap;
        swap(err_, other.err_);
    }

    friend constexpr void swap(unexpected& x,
                               unexpected& y) noexcept(nothrow_swap) requires can_swap {
        x.swap(y);
    }

    template <class E2>
    friend constexpr bool operator==(const unexpected& x, const unexpected<E2>& y) {
        return static_cast<bool>(x.error() == y.error());
    }

private:
    E err_;
};

template <class E>
unexpected(E) -> unexpected<E>;

template <class E>
class bad_expected_access;

// The base of every bad_expected_access<E>, for catching them whatever the error type.
template <>
class bad_expected_access<void> : public std::exception {
public:
    const char* what() const noexcept override {
        return "rt::bad_expected_access: value() called on an rt::expected that holds an error";
    }

protected:
    bad_expected_access() noexcept = default;
    bad_expected_access(const bad_expected_access&) noexcept = default;
    bad_expected_access(bad_expected_access&&) noexcept = default;
    bad_expected_access& operator=(const bad_expected_access&) noexcept = default;
    bad_expected_access& operator=(bad_expected_access&&) noexcept = default;
    ~bad_expected_access() override = default;
};

// Thrown by expected<T, E>::value() when there is no value; carries a copy of the error.
template <class E>
class bad_expected_access : public bad_expected_access<void> {
public:
    explicit bad_expected_access(E e) : err_(std::move(e)) {}

    const E& error() const& noexcept { return err_; }
    E& error() & noexcept { return err_; }
    const E&& error() const&& noexcept { return std::move(err_); }
    E&& error() && noexcept { return std::move(err_); }

private:
    E err_;
};

namespace detail {

template <class E>
[[noreturn]] void throw_bad_expected_access(E&& e) {
#if defined(__cpp_exceptions)
    throw bad_expected_access<std::decay_t<E>>(std::forward<E>(e));
#else
    (void)e;
    std::abort();
#endif
}

// Runs `body`; should it throw, runs `undo` and rethrows.
template <class Body, class Undo>
constexpr void with_undo(Body&& body, [[maybe_unused]] Undo&& undo) {
#if defined(__cpp_exceptions)
    try {
        body();
    } catch (...) {
        undo();
        throw;
    }
#else
    body();
#endif
}

// like_t<Self, U>: U with the constness and value category of an expected bound to Self&&.
template <class Self, class U>
using like_t = std::conditional_t<
    std::is_lvalue_reference_v<Self>,
    std::conditional_t<std::is_const_v<std::remove_reference_t<Self>>, const U&, U&>,
    std::conditional_t<std::is_const_v<std::remove_reference_t<Self>>, const U&&, U&&>>;

// Stands in for the value of expected<void, E>, so that both share one storage.
struct empty_value {};

struct from_storage_t {
    explicit from_storage_t() = default;
};
inline constexpr from_storage_t from_storage{};

struct from_expected_t {
    explicit from_expected_t() = default;
};
inline constexpr from_expected_t from_expected{};

// The value (or the error) is what a call returns; transform and transform_error use these so
// that the result is built in place, even when it cannot be moved.
struct value_from_call_t {
    explicit value_from_call_t() = default;
};
inline constexpr value_from_call_t value_from_call{};

struct error_from_call_t {
    explicit error_from_call_t() = default;
};
inline constexpr error_from_call_t error_from_call{};

// Builds the member of self's union that matches other, another storage being copied or moved
// from. has_val is already set.
template <class Self, class Other>
constexpr void construct_from_storage(Self& self, Other&& other) {
    if (self.has_val)
        std::construct_at(std::addressof(self.val), std::forward<Other>(other).val);
    else
        std::construct_at(std::addressof(self.err), std::forward<Other>(other).err);
}

// As above, reading another expected<U, G> through its public interface.
template <class Self, class Other>
constexpr void construct_from_expected(Self& self, Other&& other) {
    if (!self.has_val)
        std::construct_at(std::addressof(self.err), std::forward<Other>(other).error());
    else if constexpr (std::is_void_v<typename std::remove_cvref_t<Other>::value_type>)
        std::construct_at(std::addressof(self.val));
    else
        std::construct_at(std::addressof(self.val), *std::forward<Other>(other));
}

// The value and the error share a union; has_val says which one is alive. The destructor is
// trivial exactly when both types' are, so that expected<int, int> is a trivial type. The two
// specialisations differ only in the destructor.
template <class V, class E, bool = both<std::is_trivially_destructible, V, E>>
struct expected_storage {
    template <class... Args>
    constexpr explicit expected_storage(std::in_place_t, Args&&... args)
        : val(std::forward<Args>(args)...), has_val(true) {}
    template <class... Args>
    constexpr explicit expected_storage(unexpect_t, Args&&... args)
        : err(std::forward<Args>(args)...), has_val(false) {}
    template <class F>
    constexpr expected_storage(value_from_call_t, F&& f)
        : val(std::forward<F>(f)()), has_val(true) {}
    template <class F>
    constexpr expected_storage(error_from_call_t, F&& f)
        : err(std::forward<F>(f)()), has_val(false) {}
    template <class Other>
    constexpr expected_storage(from_storage_t, Other&& other) : has_val(other.has_val) {
        construct_from_storage(*this, std::forward<Other>(other));
    }
    template <class Other>
    constexpr expected_storage(from_expected_t, Other&& other) : has_val(other.has_value()) {
        construct_from_expected(*this, std::forward<Other>(other));
    }

    union {
        V val;
        E err;
    };
    bool has_val;
};

template <class V, class E>
struct expected_storage<V, E, false> {
    template <class... Args>
    constexpr explicit expected_storage(std::in_place_t, Args&&... args)
        : val(std::forward<Args>(args)...), has_val(true) {}
    template <class... Args>
    constexpr explicit expected_storage(unexpect_t, Args&&... args)
        : err(std::forward<Args>(args)...), has_val(false) {}
    template <class F>
    constexpr expected_storage(value_from_call_t, F&& f)
        : val(std::forward<F>(f)()), has_val(true) {}
    template <class F>
    constexpr expected_storage(error_from_call_t, F&& f)
        : err(std::forward<F>(f)()), has_val(false) {}
    template <class Other>
    constexpr expected_storage(from_storage_t, Other&& other) : has_val(other.has_val) {
        construct_from_storage(*this, std::forward<Other>(other));
    }
    template <class Other>
    constexpr expected_storage(from_expected_t, Other&& other) : has_val(other.has_value()) {
        construct_from_expected(*this, std::forward<Other>(other));
    }

    constexpr ~expected_storage() {
        if (has_val)
            std::destroy_at(std::addressof(val));
        else
            std::destroy_at(std::addressof(err));
    }

    union {
        V val;
        E err;
    };
    bool has_val;
};

template <class S>
constexpr void destroy_active(S& s) noexcept {
    if (s.has_val)
        std::destroy_at(std::addressof(s.val));
    else
        std::destroy_at(std::addressof(s.err));
}

// Ends old_obj and starts new_obj from args; if that throws, old_obj is alive again (the
// standard's reinit-expected). One of New and Old moves without throwing.
template <class New, class Old, class... Args>
constexpr void reinit(New& new_obj, Old& old_obj, Args&&... args) {
    if constexpr (std::is_nothrow_constructible_v<New, Args...>) {
        std::destroy_at(std::addressof(old_obj));
        std::construct_at(std::addressof(new_obj), std::forward<Args>(args)...);
    } else if constexpr (std::is_nothrow_move_constructible_v<New>) {
        New tmp(std::forward<Args>(args)...);
        std::destroy_at(std::addressof(old_obj));
        std::construct_at(std::addressof(new_obj), std::move(tmp));
    } else {
        static_assert(std::is_nothrow_move_constructible_v<Old>);
        Old tmp(std::move(old_obj));
        std::destroy_at(std::addressof(old_obj));
        with_undo([&] { std::construct_at(std::addressof(new_obj), std::forward<Args>(args)...); },
                  [&] { std::construct_at(std::addressof(old_obj), std::move(tmp)); });
    }
}

// Copy or move assignment of a storage from another of the same type.
template <class S, class Other>
constexpr void assign_from(S& self, Other&& other) {
    if (self.has_val && other.has_val) {
        self.val = std::forward<Other>(other).val;
    } else if (self.has_val) {
        reinit(self.err, self.val, std::forward<Other>(other).err);
        self.has_val = false;
    } else if (other.has_val) {
        reinit(self.val, self.err, std::forward<Other>(other).val);
        self.has_val = true;
    } else {
        self.err = std::forward<Other>(other).err;
    }
}

// Replaces whatever self holds by a value built from args. If that construction may throw, the
// value is built first, so that self is unchanged when it does.
template <class S, class... Args>
constexpr auto& emplace_value(S& self, Args&&... args) {
    using value_type = decltype(self.val);
    if constexpr (std::is_nothrow_constructible_v<value_type, Args...>) {
        destroy_active(self);
        std::construct_at(std::addressof(self.val), std::forward<Args>(args)...);
    } else {
        value_type tmp(std::forward<Args>(args)...);
        destroy_active(self);
        std::construct_at(std::addressof(self.val), std::move(tmp));
    }
    self.has_val = true;
    return self.val;
}

// Swaps storage v, which holds a value, with storage e, which holds an error (the standard's
// algorithm: whichever of the two moves without throwing is parked in a temporary).
template <class S>
constexpr void swap_value_with_error(S& v, S& e) {
    using value_type = decltype(v.val);
    using error_type = decltype(e.err);
    if constexpr (std::is_nothrow_move_constructible_v<error_type>) {
        error_type tmp(std::move(e.err));
        std::destroy_at(std::addressof(e.err));
        with_undo(
            [&] {
                std::construct_at(std::addressof(e.val), std::move(v.val));
                std::destroy_at(std::addressof(v.val));
                std::construct_at(std::addressof(v.err), std::move(tmp));
            },
            [&] { std::construct_at(std::addressof(e.err), std::move(tmp)); });
    } else {
        value_type tmp(std::move(v.val));
        std::destroy_at(std::addressof(v.val));
        with_undo(
            [&] {
                std::construct_at(std::addressof(v.err), std::move(e.err));
                std::destroy_at(std::addressof(e.err));
                std::construct_at(std::addressof(e.val), std::move(tmp));
            },
            [&] { std::construct_at(std::addressof(v.val), std::move(tmp)); });
    }
    v.has_val = false;
    e.has_val = true;
}

template <class S>
constexpr void swap_storage(S& a, S& b) {
    using std::swap;
    if (a.has_val && b.has_val)
        swap(a.val, b.val);
    else if (a.has_val)
        swap_value_with_error(a, b);
    else if (b.has_val)
        swap_value_with_error(b, a);
    else
        swap(a.err, b.err);
}

// The layers below give expected its copy and move operations: trivial when those of V and E are
// (and both destructors are trivial), user-provided otherwise, and absent when V or E lacks
// them. Each operation has a layer of its own because clang 14 does not pick the trivial one out
// of several constrained special members of one class.
template <class V, class E>
concept trivially_copy_constructible_pair =
    both<std::is_trivially_destructible, V, E> && both<std::is_trivially_copy_constructible, V, E>;

template <class V, class E>
concept trivially_move_constructible_pair =
    both<std::is_trivially_destructible, V, E> && both<std::is_trivially_move_constructible, V, E>;

template <class V, class E>
concept trivially_copy_assignable_pair =
    trivially_copy_constructible_pair<V, E> && both<std::is_trivially_copy_assignable, V, E>;

template <class V, class E>
concept trivially_move_assignable_pair =
    trivially_move_constructible_pair<V, E> && both<std::is_trivially_move_assignable, V, E>;

template <class V, class E>
concept copy_constructible_pair = both<std::is_copy_constructible, V, E>;

template <class V, class E>
concept nothrow_copy_constructible_pair = both<std::is_nothrow_copy_constructible, V, E>;

template <class V, class E>
concept move_constructible_pair = both<std::is_move_constructible, V, E>;

template <class V, class E>
concept nothrow_move_constructible_pair = both<std::is_nothrow_move_constructible, V, E>;

template <class V, class E>
concept copy_assignable_pair = both<std::is_copy_constructible, V, E> &&
    both<std::is_copy_assignable, V, E> && one_nothrow_movable<V, E>;

template <class V, class E>
concept move_assignable_pair = both<std::is_move_constructible, V, E> &&
    both<std::is_move_assignable, V, E> && one_nothrow_movable<V, E>;

template <class V, class E>
concept nothrow_copy_assignable_pair =
    both<std::is_nothrow_copy_constructible, V, E> && both<std::is_nothrow_copy_assignable, V, E>;

template <class V, class E>
concept nothrow_move_assignable_pair =
    both<std::is_nothrow_move_constructible, V, E> && both<std::is_nothrow_move_assignable, V, E>;

template <class V, class E, bool = trivially_copy_constructible_pair<V, E>>
struct expected_copy : expected_storage<V, E> {
    using expected_storage<V, E>::expected_storage;
};

template <class V, class E>
struct expected_copy<V, E, false> : expected_storage<V, E> {
    using expected_storage<V, E>::expected_storage;

    constexpr expected_copy(const expected_copy& other) noexcept(
        nothrow_copy_constructible_pair<V, E>) requires copy_constructible_pair<V, E>
        : expected_storage<V, E>(from_storage, other) {}
    expected_copy(expected_copy&&) = default;
    expected_copy& operator=(const expected_copy&) = default;
    expected_copy& operator=(expected_copy&&) = default;
};

template <class V, class E, bool = trivially_move_constructible_pair<V, E>>
struct expected_move : expected_copy<V, E> {
    using expected_copy<V, E>::expected_copy;
};

template <class V, class E>
struct expected_move<V, E, false> : expected_copy<V, E> {
    using expected_copy<V, E>::expected_copy;

    expected_move(const expected_move&) = default;
    constexpr expected_move(expected_move&& other) noexcept(
        nothrow_move_constructible_pair<V, E>) requires move_constructible_pair<V, E>
        : expected_copy<V, E>(from_storage, std::move(other)) {}
    expected_move& operator=(const expected_move&) = default;
    expected_move& operator=(expected_move&&) = default;
};

template <class V, class E, bool = trivially_copy_assignable_pair<V, E>>
struct expected_copy_assign : expected_move<V, E> {
    using expected_move<V, E>::expected_move;
};

template <class V, class E>
struct expected_copy_assign<V, E, false> : expected_move<V, E> {
    using expected_move<V, E>::expected_move;

    expected_copy_assign(const expected_copy_assign&) = default;
    expected_copy_assign(expected_copy_assign&&) = default;
    constexpr expected_copy_assign& operator=(const expected_copy_assign& other) noexcept(
        nothrow_copy_assignable_pair<V, E>) requires copy_assignable_pair<V, E> {
        assign_from(*this, other);
        return *this;
    }
    expected_copy_assign& operator=(expected_copy_assign&&) = default;
};

template <class V, class E, bool = trivially_move_assignable_pair<V, E>>
struct expected_move_assign : expected_copy_assign<V, E> {
    using expected_copy_assign<V, E>::expected_copy_assign;
};

template <class V, class E>
struct expected_move_assign<V, E, false> : expected_copy_assign<V, E> {
    using expected_copy_assign<V, E>::expected_copy_assign;

    expected_move_assign(const expected_move_assign&) = default;
    expected_move_assign(expected_move_assign&&) = default;
    expected_move_assign& operator=(const expected_move_assign&) = default;
    constexpr expected_move_assign& operator=(expected_move_assign&& other) noexcept(
        nothrow_move_assignable_pair<V, E>) requires move_assignable_pair<V, E> {
        assign_from(*this, std::move(other));
        return *this;
    }
};

template <class V, class E>
using expected_base = expected_move_assign<V, E>;

// Calls f with the value of self (with nothing for expected<void, E>), forwarding self's
// constness and value category.
template <class F, class Self>
constexpr decltype(auto) invoke_with_value(F&& f, Self&& self) {
    if constexpr (std::is_void_v<typename std::remove_cvref_t<Self>::value_type>)
        return std::invoke(std::forward<F>(f));
    else
        return std::invoke(std::forward<F>(f), *std::forward<Self>(self));
}

template <class F, class Self>
using value_call_result_t = decltype(invoke_with_value(std::declval<F>(), std::declval<Self>()));

template <class F, class Self>
using error_call_result_t =
    std::invoke_result_t<F, like_t<Self, typename std::remove_cvref_t<Self>::error_type>>;

// and_then, transform, or_else and transform_error, for both kinds of expected and every
// category of *this. A friend of expected, for the constructors that build from a call.
struct expected_monadic {
    template <class Self, class F>
    static constexpr auto and_then(Self&& self, F&& f) {
        using X = std::remove_cvref_t<Self>;
        using U = std::remove_cvref_t<value_call_result_t<F, Self>>;
        static_assert(is_expected<U>, "rt::expected::and_then: f must return an rt::expected");
        static_assert(std::is_same_v<typename U::error_type, typename X::error_type>,
                      "rt::expected::and_then: f must return the same error type");
        if (self.has_value())
            return U(invoke_with_value(std::forward<F>(f), std::forward<Self>(self)));
        return U(unexpect, std::forward<Self>(self).error());
    }

    template <class Self, class F>
    static constexpr auto transform(Self&& self, F&& f) {
        using X = std::remove_cvref_t<Self>;
        using U = std::remove_cv_t<value_call_result_t<F, Self>>;
        static_assert(valid_value<U>,
                      "rt::expected::transform: f must return void or a non-array object type");
        using R = expected<U, typename X::error_type>;
        if (!self.has_value())
            return R(unexpect, std::forward<Self>(self).error());
        if constexpr (std::is_void_v<U>) {
            invoke_with_value(std::forward<F>(f), std::forward<Self>(self));
            return R();
        } else {
            return R(value_from_call, [&]() -> U {
                return invoke_with_value(std::forward<F>(f), std::forward<Self>(self));
            });
        }
    }

    template <class Self, class F>
    static constexpr auto or_else(Self&& self, F&& f) {
        using X = std::remove_cvref_t<Self>;
        using G = std::remove_cvref_t<error_call_result_t<F, Self>>;
        static_assert(is_expected<G>, "rt::expected::or_else: f must return an rt::expected");
        static_assert(std::is_same_v<typename G::value_type, typename X::value_type>,
                      "rt::expected::or_else: f must return the same value type");
        if (!self.has_value())
            return G(std::invoke(std::forward<F>(f), std::forward<Self>(self).error()));
        if constexpr (std::is_void_v<typename X::value_type>)
            return G();
        else
            return G(std::in_place, *std::forward<Self>(self));
    }

    template <class Self, class F>
    static constexpr auto transform_error(Self&& self, F&& f) {
        using X = std::remove_cvref_t<Self>;
        using G = std::remove_cv_t<error_call_result_t<F, Self>>;
        static_assert(valid_error<G>,
                      "rt::expected::transform_error: f must return a non-array object type");
        using R = expected<typename X::value_type, G>;
        if (!self.has_value()) {
            return R(error_from_call, [&]() -> G {
                return std::invoke(std::forward<F>(f), std::forward<Self>(self).error());
            });
        }
        if constexpr (std::is_void_v<typename X::value_type>)
            return R();
        else
            return R(std::in_place, *std::forward<Self>(self));
    }
};

} // namespace detail

template <class T, class E>
class expected {
    static_assert(!std::is_reference_v<T> && !std::is_function_v<T> && detail::valid_value<T>,
                  "rt::expected<T, E>: T must be a non-array object type other than in_place_t, "
                  "unexpect_t or an unexpected");
    static_assert(detail::valid_error<E>, "rt::expected<T, E>: E must be a non-array, non-cv "
                                          "object type that is not an unexpected");

    template <class, class>
    friend class expected;
    friend struct detail::expected_monadic;

    static constexpr bool can_swap = detail::swappable_pair<T, E>;
    static constexpr bool nothrow_swap = detail::nothrow_swappable_pair<T, E>;

public:
    using value_type = T;
    using error_type = E;
    using unexpected_type = unexpected<E>;

    template <class U>
    using rebind = expected<U, error_type>;

    // Construction. Copy and move construction and assignment are implicit: detail::expected_base
    // makes them trivial, user-provided or deleted following T and E.

    constexpr expected() noexcept(
        std::is_nothrow_default_constructible_v<T>) requires std::is_default_constructible_v<T>
        : s_(std::in_place) {}

    template <class U, class G>
    requires detail::expected_convertible<T, E, U, G, const U&, const G&>
    constexpr explicit(!std::is_convertible_v<const U&, T> || !std::is_convertible_v<const G&, E>)
        expected(const expected<U, G>& other)
        : s_(detail::from_expected, other) {}

    template <class U, class G>
    requires detail::expected_convertible<T, E, U, G, U, G>
    constexpr explicit(!std::is_convertible_v<U, T> || !std::is_convertible_v<G, E>)
        expected(expected<U, G>&& other)
        : s_(detail::from_expected, std::move(other)) {}

    template <class U = std::remove_cv_t<T>>
    requires detail::value_source<T, E, U>
    constexpr explicit(!std::is_convertible_v<U, T>)
        expected(U&& v) noexcept(std::is_nothrow_constructible_v<T, U>)
        : s_(std::in_place, std::forward<U>(v)) {}

    template <class G>
    requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>)
        expected(const unexpected<G>& e) noexcept(std::is_nothrow_constructible_v<E, const G&>)
        : s_(unexpect, e.error()) {}

    template <class G>
    requires std::is_constructible_v<E, G>
    constexpr explicit(!std::is_convertible_v<G, E>)
        expected(unexpected<G>&& e) noexcept(std::is_nothrow_constructible_v<E, G>)
        : s_(unexpect, std::move(e).error()) {}

    template <class... Args>
    requires std::is_constructible_v<T, Args...>
    constexpr explicit expected(std::in_place_t, Args&&... args) noexcept(
        std::is_nothrow_constructible_v<T, Args...>)
        : s_(std::in_place, std::forward<Args>(args)...) {}

    template <class U, class... Args>
    requires std::is_constructible_v<T, detail::list_ref<U>, Args...>
    constexpr explicit expected(std::in_place_t, std::initializer_list<U> il, Args&&... args)
        : s_(std::in_place, il, std::forward<Args>(args)...) {}

    template <class... Args>
    requires std::is_constructible_v<E, Args...>
    constexpr explicit expected(unexpect_t, Args&&... args) noexcept(
        std::is_nothrow_constructible_v<E, Args...>)
        : s_(unexpect, std::forward<Args>(args)...) {}

    template <class U, class... Args>
    requires std::is_constructible_v<E, detail::list_ref<U>, Args...>
    constexpr explicit expected(unexpect_t, std::initializer_list<U> il, Args&&... args)
        : s_(unexpect, il, std::forward<Args>(args)...) {}

    // Assignment. When the state changes the old member is destroyed exactly once, and if
    // building the new one throws the old one is still there (strong guarantee).

    template <class U = std::remove_cv_t<T>>
    requires detail::value_assignable<T, E, U>
    constexpr expected& operator=(U&& v) {
        if (s_.has_val) {
            s_.val = std::forward<U>(v);
        } else {
            detail::reinit(s_.val, s_.err, std::forward<U>(v));
            s_.has_val = true;
        }
        return *this;
    }

    template <class G>
    requires detail::error_assignable<T, E, const G&>
    constexpr expected& operator=(const unexpected<G>& e) {
        assign_error(e.error());
        return *this;
    }

    template <class G>
    requires detail::error_assignable<T, E, G>
    constexpr expected& operator=(unexpected<G>&& e) {
        assign_error(std::move(e).error());
        return *this;
    }

    // Replaces the contents by a T built from args. std::expected wants a noexcept constructor
    // here; rt also takes a throwing one when T is nothrow-movable, and then builds the new value
    // before destroying the old contents.
    template <class... Args>
    requires detail::emplaceable<T, Args...>
    constexpr T& emplace(Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>) {
        return detail::emplace_value(s_, std::forward<Args>(args)...);
    }

    template <class U, class... Args>
    requires detail::emplaceable<T, detail::list_ref<U>, Args...>
    constexpr T& emplace(std::initializer_list<U> il, Args&&... args) {
        return detail::emplace_value(s_, il, std::forward<Args>(args)...);
    }

    constexpr void swap(expected& other) noexcept(nothrow_swap) requires can_swap {
        detail::swap_storage(s_, other.s_);
    }

    friend constexpr void swap(expected& x, expected& y) noexcept(nothrow_swap) requires can_swap {
        x.swap(y);
    }

    // Observers. operator* and operator-> require has_value(); error() requires !has_value().

    constexpr const T* operator->() const noexcept { return std::addressof(s_.val); }
    constexpr T* operator->() noexcept { return std::addressof(s_.val); }

    constexpr const T& operator*() const& noexcept { return s_.val; }
    constexpr T& operator*() & noexcept { return s_.val; }
    constexpr const T&& operator*() const&& noexcept { return std::move(s_.val); }
    constexpr T&& operator*() && noexcept { return std::move(s_.val); }

    constexpr explicit operator bool() const noexcept { return s_.has_val; }
    constexpr bool has_value() const noexcept { return s_.has_val; }

    constexpr const T& value() const& {
        static_assert(std::is_copy_constructible_v<E>,
                      "rt::expected::value() const&: E must be copy constructible");
        if (!s_.has_val)
            detail::throw_bad_expected_access(std::as_const(s_.err));
        return s_.val;
    }
    constexpr T& value() & {
        static_assert(std::is_copy_constructible_v<E>,
                      "rt::expected::value() &: E must be copy constructible");
        if (!s_.has_val)
            detail::throw_bad_expected_access(std::as_const(s_.err));
        return s_.val;
    }
    constexpr const T&& value() const&& {
        static_assert(std::is_copy_constructible_v<E>,
                      "rt::expected::value() const&&: E must be copy constructible");
        if (!s_.has_val)
            detail::throw_bad_expected_access(std::move(s_.err));
        return std::move(s_.val);
    }
    constexpr T&& value() && {
        static_assert(std::is_move_constructible_v<E>,
                      "rt::expected::value() &&: E must be move constructible");
        if (!s_.has_val)
            detail::throw_bad_expected_access(std::move(s_.err));
        return std::move(s_.val);
    }

    constexpr const E& error() const& noexcept { return s_.err; }
    constexpr E& error() & noexcept { return s_.err; }
    constexpr const E&& error() const&& noexcept { return std::move(s_.err); }
    constexpr E&& error() && noexcept { return std::move(s_.err); }

    template <class U = std::remove_cv_t<T>>
    constexpr T value_or(U&& fallback) const& {
        static_assert(std::is_copy_constructible_v<T> && std::is_convertible_v<U, T>,
                      "rt::expected::value_or: T must be copy constructible and U convert to T");
        return s_.has_val ? s_.val : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U = std::remove_cv_t<T>>
    constexpr T value_or(U&& fallback) && {
        static_assert(std::is_move_constructible_v<T> && std::is_convertible_v<U, T>,
                      "rt::expected::value_or: T must be move constructible and U convert to T");
        return s_.has_val ? std::move(s_.val) : static_cast<T>(std::forward<U>(fallback));
    }

    template <class G = E>
    constexpr E error_or(G&& fallback) const& {
        static_assert(std::is_copy_constructible_v<E> && std::is_convertible_v<G, E>,
                      "rt::expected::error_or: E must be copy constructible and G convert to E");
        return s_.has_val ? static_cast<E>(std::forward<G>(fallback)) : s_.err;
    }
    template <class G = E>
    constexpr E error_or(G&& fallback) && {
        static_assert(std::is_move_constructible_v<E> && std::is_convertible_v<G, E>,
                      "rt::expected::error_or: E must be move constructible and G convert to E");
        return s_.has_val ? static_cast<E>(std::forward<G>(fallback)) : std::move(s_.err);
    }

    // Monadic operations. and_then(f): f(value), an expected<U, E>, or the error passed on.
    // transform(f): expected<decltype(f(value)), E>. or_else(f): f(error), an expected<T, G>, or
    // the value passed on. transform_error(f): expected<T, decltype(f(error))>.

    template <class F>
    requires std::is_constructible_v<E, E&>
    constexpr auto and_then(F&& f) & {
        return detail::expected_monadic::and_then(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&>
    constexpr auto and_then(F&& f) const& {
        return detail::expected_monadic::and_then(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, E&&>
    constexpr auto and_then(F&& f) && {
        return detail::expected_monadic::and_then(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&&>
    constexpr auto and_then(F&& f) const&& {
        return detail::expected_monadic::and_then(std::move(*this), std::forward<F>(f));
    }

    template <class F>
    requires std::is_constructible_v<E, E&>
    constexpr auto transform(F&& f) & {
        return detail::expected_monadic::transform(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&>
    constexpr auto transform(F&& f) const& {
        return detail::expected_monadic::transform(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, E&&>
    constexpr auto transform(F&& f) && {
        return detail::expected_monadic::transform(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&&>
    constexpr auto transform(F&& f) const&& {
        return detail::expected_monadic::transform(std::move(*this), std::forward<F>(f));
    }

    template <class F>
    requires std::is_constructible_v<T, T&>
    constexpr auto or_else(F&& f) & {
        return detail::expected_monadic::or_else(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<T, const T&>
    constexpr auto or_else(F&& f) const& {
        return detail::expected_monadic::or_else(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<T, T&&>
    constexpr auto or_else(F&& f) && {
        return detail::expected_monadic::or_else(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<T, const T&&>
    constexpr auto or_else(F&& f) const&& {
        return detail::expected_monadic::or_else(std::move(*this), std::forward<F>(f));
    }

    template <class F>
    requires std::is_constructible_v<T, T&>
    constexpr auto transform_error(F&& f) & {
        return detail::expected_monadic::transform_error(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<T, const T&>
    constexpr auto transform_error(F&& f) const& {
        return detail::expected_monadic::transform_error(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<T, T&&>
    constexpr auto transform_error(F&& f) && {
        return detail::expected_monadic::transform_error(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<T, const T&&>
    constexpr auto transform_error(F&& f) const&& {
        return detail::expected_monadic::transform_error(std::move(*this), std::forward<F>(f));
    }

    // Equality: equal values, or equal errors; a value never equals an error. != and the
    // reversed forms (1 == e) come from C++20's rewritten comparisons.

    template <class T2, class E2>
    requires detail::expected_comparable<T, E, T2, E2>
    friend constexpr bool operator==(const expected& x, const expected<T2, E2>& y) {
        if (x.has_value() != y.has_value())
            return false;
        if (x.has_value())
            return static_cast<bool>(*x == *y);
        return static_cast<bool>(x.error() == y.error());
    }

    template <class T2>
    requires detail::value_comparable<T, T2>
    friend constexpr bool operator==(const expected& x, const T2& v) {
        return x.has_value() && static_cast<bool>(*x == v);
    }

    template <class E2>
    requires detail::equality_comparable_to<E, E2>
    friend constexpr bool operator==(const expected& x, const unexpected<E2>& e) {
        return !x.has_value() && static_cast<bool>(x.error() == e.error());
    }

private:
    template <class F>
    constexpr expected(detail::value_from_call_t tag, F&& f) : s_(tag, std::forward<F>(f)) {}
    template <class F>
    constexpr expected(detail::error_from_call_t tag, F&& f) : s_(tag, std::forward<F>(f)) {}

    template <class G>
    constexpr void assign_error(G&& g) {
        if (s_.has_val) {
            detail::reinit(s_.err, s_.val, std::forward<G>(g));
            s_.has_val = false;
        } else {
            s_.err = std::forward<G>(g);
        }
    }

    detail::expected_base<T, E> s_;
};

// expected<void, E>: success without a value, or an error. Default-constructs as success.
template <class T, class E>
requires std::is_void_v<T>
class expected<T, E> {
    static_assert(detail::valid_error<E>, "rt::expected<void, E>: E must be a non-array, non-cv "
                                          "object type that is not an unexpected");

    template <class, class>
    friend class expected;
    friend struct detail::expected_monadic;

    using empty = detail::empty_value;

    static constexpr bool can_swap = detail::swappable_pair<empty, E>;
    static constexpr bool nothrow_swap = detail::nothrow_swappable_pair<empty, E>;

public:
    using value_type = T;
    using error_type = E;
    using unexpected_type = unexpected<E>;

    template <class U>
    using rebind = expected<U, error_type>;

    constexpr expected() noexcept : s_(std::in_place) {}

    template <class U, class G>
    requires detail::void_expected_convertible<E, U, G, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>) expected(const expected<U, G>& other)
        : s_(detail::from_expected, other) {}

    template <class U, class G>
    requires detail::void_expected_convertible<E, U, G, G>
    constexpr explicit(!std::is_convertible_v<G, E>) expected(expected<U, G>&& other)
        : s_(detail::from_expected, std::move(other)) {}

    template <class G>
    requires std::is_constructible_v<E, const G&>
    constexpr explicit(!std::is_convertible_v<const G&, E>)
        expected(const unexpected<G>& e) noexcept(std::is_nothrow_constructible_v<E, const G&>)
        : s_(unexpect, e.error()) {}

    template <class G>
    requires std::is_constructible_v<E, G>
    constexpr explicit(!std::is_convertible_v<G, E>)
        expected(unexpected<G>&& e) noexcept(std::is_nothrow_constructible_v<E, G>)
        : s_(unexpect, std::move(e).error()) {}

    constexpr explicit expected(std::in_place_t) noexcept : s_(std::in_place) {}

    template <class... Args>
    requires std::is_constructible_v<E, Args...>
    constexpr explicit expected(unexpect_t, Args&&... args) noexcept(
        std::is_nothrow_constructible_v<E, Args...>)
        : s_(unexpect, std::forward<Args>(args)...) {}

    template <class U, class... Args>
    requires std::is_constructible_v<E, detail::list_ref<U>, Args...>
    constexpr explicit expected(unexpect_t, std::initializer_list<U> il, Args&&... args)
        : s_(unexpect, il, std::forward<Args>(args)...) {}

    template <class G>
    requires detail::error_assignable<empty, E, const G&>
    constexpr expected& operator=(const unexpected<G>& e) {
        assign_error(e.error());
        return *this;
    }

    template <class G>
    requires detail::error_assignable<empty, E, G>
    constexpr expected& operator=(unexpected<G>&& e) {
        assign_error(std::move(e).error());
        return *this;
    }

    // Makes this a success, destroying the error if there was one.
    constexpr void emplace() noexcept {
        if (!s_.has_val)
            detail::emplace_value(s_);
    }

    constexpr void swap(expected& other) noexcept(nothrow_swap) requires can_swap {
        detail::swap_storage(s_, other.s_);
    }

    friend constexpr void swap(expected& x, expected& y) noexcept(nothrow_swap) requires can_swap {
        x.swap(y);
    }

    constexpr explicit operator bool() const noexcept { return s_.has_val; }
    constexpr bool has_value() const noexcept { return s_.has_val; }

    constexpr void operator*() const noexcept {}

    constexpr void value() const& {
        static_assert(std::is_copy_constructible_v<E>,
                      "rt::expected<void, E>::value() const&: E must be copy constructible");
        if (!s_.has_val)
            detail::throw_bad_expected_access(std::as_const(s_.err));
    }
    constexpr void value() && {
        static_assert(std::is_copy_constructible_v<E> && std::is_move_constructible_v<E>,
                      "rt::expected<void, E>::value() &&: E must be copy and move constructible");
        if (!s_.has_val)
            detail::throw_bad_expected_access(std::move(s_.err));
    }

    constexpr const E& error() const& noexcept { return s_.err; }
    constexpr E& error() & noexcept { return s_.err; }
    constexpr const E&& error() const&& noexcept { return std::move(s_.err); }
    constexpr E&& error() && noexcept { return std::move(s_.err); }

    template <class G = E>
    constexpr E error_or(G&& fallback) const& {
        static_assert(std::is_copy_constructible_v<E> && std::is_convertible_v<G, E>,
                      "rt::expected::error_or: E must be copy constructible and G convert to E");
        return s_.has_val ? static_cast<E>(std::forward<G>(fallback)) : s_.err;
    }
    template <class G = E>
    constexpr E error_or(G&& fallback) && {
        static_assert(std::is_move_constructible_v<E> && std::is_convertible_v<G, E>,
                      "rt::expected::error_or: E must be move constructible and G convert to E");
        return s_.has_val ? static_cast<E>(std::forward<G>(fallback)) : std::move(s_.err);
    }

    // Monadic operations, as for expected<T, E>, except that f of and_then and transform takes
    // no argument.

    template <class F>
    requires std::is_constructible_v<E, E&>
    constexpr auto and_then(F&& f) & {
        return detail::expected_monadic::and_then(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&>
    constexpr auto and_then(F&& f) const& {
        return detail::expected_monadic::and_then(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, E&&>
    constexpr auto and_then(F&& f) && {
        return detail::expected_monadic::and_then(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&&>
    constexpr auto and_then(F&& f) const&& {
        return detail::expected_monadic::and_then(std::move(*this), std::forward<F>(f));
    }

    template <class F>
    requires std::is_constructible_v<E, E&>
    constexpr auto transform(F&& f) & {
        return detail::expected_monadic::transform(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&>
    constexpr auto transform(F&& f) const& {
        return detail::expected_monadic::transform(*this, std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, E&&>
    constexpr auto transform(F&& f) && {
        return detail::expected_monadic::transform(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    requires std::is_constructible_v<E, const E&&>
    constexpr auto transform(F&& f) const&& {
        return detail::expected_monadic::transform(std::move(*this), std::forward<F>(f));
    }

    template <class F>
    constexpr auto or_else(F&& f) & {
        return detail::expected_monadic::or_else(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) const& {
        return detail::expected_monadic::or_else(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) && {
        return detail::expected_monadic::or_else(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto or_else(F&& f) const&& {
        return detail::expected_monadic::or_else(std::move(*this), std::forward<F>(f));
    }

    template <class F>
    constexpr auto transform_error(F&& f) & {
        return detail::expected_monadic::transform_error(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) const& {
        return detail::expected_monadic::transform_error(*this, std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) && {
        return detail::expected_monadic::transform_error(std::move(*this), std::forward<F>(f));
    }
    template <class F>
    constexpr auto transform_error(F&& f) const&& {
        return detail::expected_monadic::transform_error(std::move(*this), std::forward<F>(f));
    }

    template <class T2, class E2>
    requires detail::void_expected_comparable<E, T2, E2>
    friend constexpr bool operator==(const expected& x, const expected<T2, E2>& y) {
        if (x.has_value() != y.has_value())
            return false;
        return x.has_value() || static_cast<bool>(x.error() == y.error());
    }

    template <class E2>
    requires detail::equality_comparable_to<E, E2>
    friend constexpr bool operator==(const expected& x, const unexpected<E2>& e) {
        return !x.has_value() && static_cast<bool>(x.error() == e.error());
    }

private:
    template <class F>
    constexpr expected(detail::error_from_call_t tag, F&& f) : s_(tag, std::forward<F>(f)) {}

    template <class G>
    constexpr void assign_error(G&& g) {
        if (s_.has_val) {
            // The empty value needs no destruction; the error takes its place.
            std::construct_at(std::addressof(s_.err), std::forward<G>(g));
            s_.has_val = false;
        } else {
            s_.err = std::forward<G>(g);
        }
    }

    detail::expected_base<empty, E> s_;
};

} // namespace rt
