// Tests of rt::expected<T, E>, rt::expected<void, E>, rt::unexpected and rt::bad_expected_access.
#include <rt/expected.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// An error type that is a plain user struct.
struct parse_error {
    int line = 0;
    std::string message;
    friend bool operator==(const parse_error&, const parse_error&) = default;
};

// Counts its constructions and destructions so tests can check that every object that was
// built is destroyed exactly once. `id` is carried through copies and moves.
struct counted {
    static inline int constructed = 0;
    static inline int destroyed = 0;
    static void reset() { constructed = destroyed = 0; }
    static int live() { return constructed - destroyed; }

    int id = 0;

    counted() noexcept { ++constructed; }
    explicit counted(int i) noexcept : id(i) { ++constructed; }
    counted(const counted& other) noexcept : id(other.id) { ++constructed; }
    counted(counted&& other) noexcept : id(other.id) { ++constructed; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) = default;
    ~counted() { ++destroyed; }
};

// A second counted type, so value and error are told apart in the counts.
struct counted_error {
    static inline int constructed = 0;
    static inline int destroyed = 0;
    static void reset() { constructed = destroyed = 0; }
    static int live() { return constructed - destroyed; }

    int code = 0;

    explicit counted_error(int c) noexcept : code(c) { ++constructed; }
    counted_error(const counted_error& other) noexcept : code(other.code) { ++constructed; }
    counted_error(counted_error&& other) noexcept : code(other.code) { ++constructed; }
    counted_error& operator=(const counted_error&) = default;
    counted_error& operator=(counted_error&&) = default;
    ~counted_error() { ++destroyed; }
};

// Copying throws when `fail` is set; moving may throw too (not noexcept), so expected must
// rely on the error type's nothrow move for its strong guarantee.
struct throwing_copy {
    static inline bool fail = false;
    static inline int live = 0;
    int v = 0;

    explicit throwing_copy(int i) : v(i) { ++live; }
    throwing_copy(const throwing_copy& other) : v(other.v) {
        if (fail)
            throw std::runtime_error("copy failed");
        ++live;
    }
    throwing_copy(throwing_copy&& other) noexcept(false) : v(other.v) {
        if (fail)
            throw std::runtime_error("move failed");
        ++live;
    }
    throwing_copy& operator=(const throwing_copy&) = default;
    throwing_copy& operator=(throwing_copy&&) = default;
    ~throwing_copy() { --live; }
};

struct not_movable {
    int v;
    explicit not_movable(int i) : v(i) {}
    not_movable(const not_movable&) = delete;
    not_movable& operator=(const not_movable&) = delete;
};

using int_result = rt::expected<int, std::error_code>;
using string_result = rt::expected<std::string, std::error_code>;
using ptr_result = rt::expected<std::unique_ptr<int>, std::error_code>;
using void_result = rt::expected<void, std::error_code>;

std::error_code timed_out() {
    return std::make_error_code(std::errc::timed_out);
}
std::error_code refused() {
    return std::make_error_code(std::errc::connection_refused);
}

// ---- compile-time properties -----------------------------------------------------------------

static_assert(sizeof(rt::expected<int, int>) == 2 * sizeof(int));
static_assert(sizeof(rt::expected<void, int>) == 2 * sizeof(int));
static_assert(sizeof(rt::expected<char, char>) == 2);

static_assert(std::is_trivially_copyable_v<rt::expected<int, int>>);
static_assert(std::is_trivially_destructible_v<rt::expected<int, int>>);
static_assert(std::is_trivially_copyable_v<rt::expected<int, std::error_code>>);
static_assert(std::is_trivially_copyable_v<rt::expected<void, std::error_code>>);
static_assert(!std::is_trivially_destructible_v<string_result>);
static_assert(!std::is_trivially_copy_constructible_v<string_result>);

static_assert(std::is_copy_constructible_v<string_result>);
static_assert(std::is_copy_assignable_v<string_result>);
static_assert(std::is_nothrow_move_constructible_v<string_result>);
static_assert(std::is_nothrow_move_assignable_v<string_result>);
static_assert(std::is_nothrow_move_constructible_v<rt::expected<int, parse_error>>);

static_assert(!std::is_copy_constructible_v<ptr_result>);
static_assert(!std::is_copy_assignable_v<ptr_result>);
static_assert(std::is_nothrow_move_constructible_v<ptr_result>);
static_assert(std::is_nothrow_move_assignable_v<ptr_result>);
static_assert(!std::is_copy_constructible_v<rt::expected<int, std::unique_ptr<int>>>);
static_assert(std::is_move_constructible_v<rt::expected<int, std::unique_ptr<int>>>);
static_assert(!std::is_move_constructible_v<rt::expected<not_movable, int>>);

// Neither nothrow-movable: no assignment (the standard's rule), but still copy-constructible.
static_assert(std::is_copy_constructible_v<rt::expected<throwing_copy, std::string>>);
static_assert(!std::is_copy_assignable_v<rt::expected<throwing_copy, throwing_copy>>);
static_assert(std::is_copy_assignable_v<rt::expected<throwing_copy, int>>);

static_assert(std::is_default_constructible_v<int_result>);
static_assert(!std::is_default_constructible_v<rt::expected<not_movable, int>>);
static_assert(std::is_nothrow_default_constructible_v<void_result>);

// Implicit from values and unexpected; not from the bare error (which could be ambiguous).
static_assert(std::is_convertible_v<int, int_result>);
static_assert(std::is_convertible_v<const char*, string_result>);
static_assert(std::is_convertible_v<rt::unexpected<std::error_code>, int_result>);
static_assert(!std::is_convertible_v<std::error_code, int_result>);
static_assert(!std::is_constructible_v<string_result, std::error_code>);
static_assert(std::is_convertible_v<rt::unexpected<std::error_code>, void_result>);
static_assert(!std::is_convertible_v<int, void_result>);
// explicit when the value conversion is explicit
static_assert(std::is_constructible_v<rt::expected<std::unique_ptr<int>, int>, int*>);
static_assert(!std::is_convertible_v<int*, rt::expected<std::unique_ptr<int>, int>>);

static_assert(noexcept(std::declval<int_result&>().has_value()));
static_assert(noexcept(*std::declval<int_result&>()));
static_assert(noexcept(std::declval<int_result&>().error()));
static_assert(noexcept(std::declval<int_result&>().operator->()));
static_assert(!noexcept(std::declval<int_result&>().value()));
static_assert(noexcept(std::declval<int_result&>().emplace(1)));
static_assert(noexcept(std::declval<ptr_result&>().swap(std::declval<ptr_result&>())));

static_assert(std::is_same_v<decltype(*std::declval<ptr_result>()), std::unique_ptr<int>&&>);
static_assert(std::is_same_v<decltype(std::declval<ptr_result>().value()), std::unique_ptr<int>&&>);
static_assert(std::is_same_v<decltype(std::declval<const ptr_result&>().value()),
                             const std::unique_ptr<int>&>);
static_assert(std::is_same_v<decltype(std::declval<ptr_result>().error()), std::error_code&&>);
static_assert(std::is_same_v<int_result::rebind<long>, rt::expected<long, std::error_code>>);

static_assert(std::is_base_of_v<rt::bad_expected_access<void>, rt::bad_expected_access<int>>);
static_assert(std::is_base_of_v<std::exception, rt::bad_expected_access<void>>);
static_assert(std::is_nothrow_default_constructible_v<rt::unexpect_t>);

// ---- constexpr -------------------------------------------------------------------------------

constexpr int constexpr_round_trip() {
    rt::expected<int, int> e = 5;
    rt::expected<int, int> f = rt::unexpected(7);
    e.swap(f);
    int sum = e.error() + *f; // 7 + 5
    f = rt::unexpected(1);    // value -> error
    e = 10;                   // error -> value
    sum += *e + f.error();    // + 10 + 1
    e.emplace(20);
    sum += e.value_or(0) + f.value_or(100); // + 20 + 100
    auto doubled = e.transform([](int v) { return v * 2; });
    sum += *doubled; // + 40
    return sum;
}
static_assert(constexpr_round_trip() == 183);

constexpr bool constexpr_void() {
    rt::expected<void, int> ok;
    rt::expected<void, int> bad = rt::unexpected(3);
    bool result = ok.has_value() && !bad.has_value() && bad.error() == 3;
    bad.emplace();
    return result && bad.has_value() && ok == bad;
}
static_assert(constexpr_void());

static_assert(rt::expected<int, int>(3) == 3);
static_assert(rt::expected<int, int>(rt::unexpect, 3) == rt::unexpected(3));
static_assert(rt::unexpected(4).error() == 4);

// ---- unexpected ------------------------------------------------------------------------------

TEST(Unexpected, DeducesItsErrorType) {
    rt::unexpected u(timed_out());
    static_assert(std::is_same_v<decltype(u), rt::unexpected<std::error_code>>);
    EXPECT_EQ(u.error(), timed_out());

    rt::unexpected s(std::string("boom"));
    static_assert(std::is_same_v<decltype(s), rt::unexpected<std::string>>);
    EXPECT_EQ(s.error(), "boom");
}

TEST(Unexpected, ErrorAccessorsFollowValueCategory) {
    rt::unexpected<std::string> u(std::in_place, 3, 'x');
    const auto& cu = u;
    static_assert(std::is_same_v<decltype(u.error()), std::string&>);
    static_assert(std::is_same_v<decltype(cu.error()), const std::string&>);
    static_assert(std::is_same_v<decltype(std::move(u).error()), std::string&&>);
    static_assert(std::is_same_v<decltype(std::move(cu).error()), const std::string&&>);
    EXPECT_EQ(cu.error(), "xxx");
    std::string taken = std::move(u).error();
    EXPECT_EQ(taken, "xxx");

    rt::unexpected<std::vector<int>> list(std::in_place, {1, 2, 3});
    EXPECT_EQ(list.error().size(), 3u);
}

TEST(Unexpected, SwapAndEquality) {
    rt::unexpected a(1);
    rt::unexpected b(2);
    swap(a, b);
    EXPECT_EQ(a.error(), 2);
    EXPECT_EQ(b.error(), 1);
    a.swap(b);
    EXPECT_EQ(a, rt::unexpected(1));
    EXPECT_NE(a, b);
    EXPECT_EQ(a, rt::unexpected(1L)); // heterogeneous
}

// ---- bad_expected_access ---------------------------------------------------------------------

TEST(BadExpectedAccess, CarriesTheErrorAndExplains) {
    rt::bad_expected_access<parse_error> ex(parse_error{4, "unexpected token"});
    EXPECT_EQ(ex.error().line, 4);
    EXPECT_EQ(std::move(ex).error().message, "unexpected token");

    const std::exception& base = ex;
    const char* what = base.what();
    ASSERT_NE(what, nullptr);
    EXPECT_NE(std::strstr(what, "value"), nullptr);
    EXPECT_NE(std::strstr(what, "error"), nullptr);
}

// ---- construction ----------------------------------------------------------------------------

TEST(Expected, DefaultConstructionValueInitialises) {
    int_result i;
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ(*i, 0);

    string_result s;
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->empty());

    rt::expected<counted, int> c;
    EXPECT_TRUE(c.has_value());
}

TEST(Expected, ImplicitFromValue) {
    int_result i = 42;
    EXPECT_TRUE(i.has_value());
    EXPECT_EQ(*i, 42);

    string_result s = "hello"; // U convertible to T
    EXPECT_EQ(*s, "hello");

    auto make = []() -> string_result { return std::string(5, 'a'); };
    EXPECT_EQ(make().value(), "aaaaa");

    rt::expected<long, int> widened = 7; // int -> long
    EXPECT_EQ(*widened, 7L);
}

TEST(Expected, ImplicitFromUnexpected) {
    int_result e = rt::unexpected(timed_out());
    ASSERT_FALSE(e.has_value());
    EXPECT_FALSE(static_cast<bool>(e));
    EXPECT_EQ(e.error(), timed_out());

    auto fail = []() -> string_result { return rt::unexpected(refused()); };
    EXPECT_EQ(fail().error(), refused());

    // unexpected<G> with G convertible to E
    rt::expected<int, long> widened = rt::unexpected(3);
    EXPECT_EQ(widened.error(), 3L);

    const rt::unexpected<std::string> lvalue("lost");
    rt::expected<int, std::string> from_lvalue = lvalue;
    EXPECT_EQ(from_lvalue.error(), "lost");
}

TEST(Expected, InPlaceConstruction) {
    rt::expected<std::string, int> s(std::in_place, 3, 'z');
    EXPECT_EQ(*s, "zzz");

    rt::expected<std::vector<int>, int> v(std::in_place, {1, 2, 3, 4});
    EXPECT_EQ(v->size(), 4u);

    rt::expected<std::pair<int, std::string>, int> p(std::in_place, 1, "one");
    EXPECT_EQ(p->first, 1);
    EXPECT_EQ(p->second, "one");

    rt::expected<int, std::string> e(rt::unexpect, 4, 'e');
    EXPECT_EQ(e.error(), "eeee");

    rt::expected<int, std::vector<int>> ev(rt::unexpect, {9, 9});
    EXPECT_EQ(ev.error().size(), 2u);

    rt::expected<int, parse_error> pe(rt::unexpect, parse_error{1, "eof"});
    EXPECT_EQ(pe.error().message, "eof");
}

TEST(Expected, ConvertsFromAnotherExpected) {
    rt::expected<int, int> small = 5;
    rt::expected<long, long> big = small;
    EXPECT_EQ(*big, 5L);

    rt::expected<int, int> small_error = rt::unexpected(6);
    rt::expected<long, long> big_error = std::move(small_error);
    EXPECT_EQ(big_error.error(), 6L);

    rt::expected<const char*, int> text = "abc";
    rt::expected<std::string, int> owned = text;
    EXPECT_EQ(*owned, "abc");
}

TEST(Expected, CopyAndMoveFollowTheContents) {
    string_result a = std::string(40, 'a');
    string_result b = a; // copy
    EXPECT_EQ(*a, *b);
    string_result c = std::move(a); // move
    EXPECT_EQ(*c, std::string(40, 'a'));

    string_result err = rt::unexpected(timed_out());
    string_result err_copy = err;
    EXPECT_EQ(err_copy.error(), timed_out());
    string_result err_moved = std::move(err);
    EXPECT_EQ(err_moved.error(), timed_out());

    rt::expected<int, parse_error> pe = rt::unexpected(parse_error{2, "bad"});
    auto pe_copy = pe;
    EXPECT_EQ(pe_copy.error(), (parse_error{2, "bad"}));
}

// ---- observers -------------------------------------------------------------------------------

TEST(Expected, ValueThrowsBadExpectedAccessWithTheError) {
    int_result e = rt::unexpected(timed_out());
    try {
        (void)e.value();
        FAIL() << "value() did not throw";
    } catch (const rt::bad_expected_access<std::error_code>& ex) {
        EXPECT_EQ(ex.error(), timed_out());
    }
    // The error is copied into the exception, not moved out of e.
    EXPECT_EQ(e.error(), timed_out());

    const int_result& ce = e;
    EXPECT_THROW((void)ce.value(), rt::bad_expected_access<std::error_code>);
    EXPECT_THROW((void)std::move(e).value(), rt::bad_expected_access<void>);
    EXPECT_THROW((void)std::move(ce).value(), std::exception);

    rt::expected<int, parse_error> pe = rt::unexpected(parse_error{12, "missing ;"});
    try {
        (void)pe.value();
        FAIL() << "value() did not throw";
    } catch (const rt::bad_expected_access<parse_error>& ex) {
        EXPECT_EQ(ex.error().line, 12);
        EXPECT_EQ(ex.error().message, "missing ;");
        EXPECT_NE(std::strlen(ex.what()), 0u);
    }
    EXPECT_EQ(pe.error().message, "missing ;");
}

TEST(Expected, ValueReturnsTheValue) {
    string_result s = "v";
    EXPECT_EQ(s.value(), "v");
    s.value() += "w";
    EXPECT_EQ(*s, "vw");
    const string_result& cs = s;
    EXPECT_EQ(cs.value(), "vw");
    std::string moved = std::move(s).value();
    EXPECT_EQ(moved, "vw");
}

TEST(Expected, MoveOnlyValueIsMovedOut) {
    ptr_result p = std::make_unique<int>(7);
    ASSERT_TRUE(p);
    EXPECT_EQ(**p, 7);

    std::unique_ptr<int> out = std::move(p).value();
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, 7);
    EXPECT_TRUE(p.has_value()); // still a value, now a moved-from one
    EXPECT_EQ(*p, nullptr);

    ptr_result q(std::in_place, new int(8));
    std::unique_ptr<int> out2 = *std::move(q);
    EXPECT_EQ(*out2, 8);
    EXPECT_EQ(*q, nullptr);

    ptr_result r = std::make_unique<int>(9);
    ptr_result s = std::move(r); // move construction
    EXPECT_EQ(**s, 9);
    ptr_result t = rt::unexpected(refused());
    t = std::move(s); // move assignment, error -> value
    EXPECT_EQ(**t, 9);
    t = rt::unexpected(timed_out()); // value -> error
    EXPECT_EQ(t.error(), timed_out());

    ptr_result failed = rt::unexpected(refused());
    EXPECT_THROW((void)std::move(failed).value(), rt::bad_expected_access<std::error_code>);

    // move-only error
    rt::expected<int, std::unique_ptr<int>> me(rt::unexpect, std::make_unique<int>(3));
    std::unique_ptr<int> err = std::move(me).error();
    EXPECT_EQ(*err, 3);
}

TEST(Expected, DereferenceAndArrow) {
    string_result s = "abc";
    EXPECT_EQ(s->size(), 3u);
    s->push_back('d');
    EXPECT_EQ(*s, "abcd");
    (*s)[0] = 'A';
    const string_result& cs = s;
    EXPECT_EQ(cs->front(), 'A');
    EXPECT_EQ(*cs, "Abcd");
    static_assert(std::is_same_v<decltype(cs.operator->()), const std::string*>);
    static_assert(std::is_same_v<decltype(*std::move(cs)), const std::string&&>);
}

TEST(Expected, ErrorAccessors) {
    rt::expected<int, std::string> e(rt::unexpect, "why");
    const auto& ce = e;
    static_assert(std::is_same_v<decltype(e.error()), std::string&>);
    static_assert(std::is_same_v<decltype(ce.error()), const std::string&>);
    static_assert(std::is_same_v<decltype(std::move(e).error()), std::string&&>);
    static_assert(std::is_same_v<decltype(std::move(ce).error()), const std::string&&>);
    e.error() += "?";
    EXPECT_EQ(ce.error(), "why?");
    std::string taken = std::move(e).error();
    EXPECT_EQ(taken, "why?");
}

TEST(Expected, ValueOrAndErrorOr) {
    int_result good = 3;
    int_result bad = rt::unexpected(timed_out());
    EXPECT_EQ(good.value_or(9), 3);
    EXPECT_EQ(bad.value_or(9), 9);

    string_result s = "kept";
    string_result none = rt::unexpected(refused());
    EXPECT_EQ(s.value_or("fallback"), "kept");
    EXPECT_EQ(none.value_or("fallback"), "fallback");
    EXPECT_EQ(std::move(s).value_or("fallback"), "kept");

    ptr_result p = std::make_unique<int>(1);
    std::unique_ptr<int> taken = std::move(p).value_or(nullptr);
    EXPECT_EQ(*taken, 1);

    EXPECT_EQ(good.error_or(refused()), refused());
    EXPECT_EQ(bad.error_or(refused()), timed_out());
}

// ---- modifiers -------------------------------------------------------------------------------

TEST(Expected, AssignmentSwitchesBetweenValueAndError) {
    string_result s = "first";
    s = rt::unexpected(timed_out());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error(), timed_out());
    s = rt::unexpected(refused()); // error -> error
    EXPECT_EQ(s.error(), refused());
    s = "second"; // error -> value
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, "second");
    s = std::string("third"); // value -> value
    EXPECT_EQ(*s, "third");

    string_result other = rt::unexpected(timed_out());
    s = other; // copy assignment value -> error
    EXPECT_EQ(s.error(), timed_out());
    other = "back";
    s = other; // copy assignment error -> value
    EXPECT_EQ(*s, "back");
    const string_result& self = s;
    s = self; // self-assignment
    EXPECT_EQ(*s, "back");
}

TEST(Expected, EmplaceReplacesEitherState) {
    string_result s = rt::unexpected(timed_out());
    std::string& r = s.emplace(3, 'q');
    EXPECT_EQ(&r, &*s);
    EXPECT_EQ(*s, "qqq");
    s.emplace("from a const char*"); // std::string(const char*) may throw: built first
    EXPECT_EQ(*s, "from a const char*");

    rt::expected<std::vector<int>, int> v = rt::unexpected(1);
    v.emplace({5, 6, 7});
    EXPECT_EQ(v->size(), 3u);

    ptr_result p = rt::unexpected(refused());
    p.emplace(new int(4));
    EXPECT_EQ(**p, 4);
}

TEST(Expected, SwapCoversAllFourCombinations) {
    string_result a = "a";
    string_result b = "b";
    a.swap(b);
    EXPECT_EQ(*a, "b");
    EXPECT_EQ(*b, "a");

    string_result e1 = rt::unexpected(timed_out());
    string_result e2 = rt::unexpected(refused());
    swap(e1, e2);
    EXPECT_EQ(e1.error(), refused());
    EXPECT_EQ(e2.error(), timed_out());

    swap(a, e1); // value <-> error
    EXPECT_EQ(a.error(), refused());
    EXPECT_EQ(*e1, "b");
    swap(a, e1); // error <-> value
    EXPECT_EQ(*a, "b");
    EXPECT_EQ(e1.error(), refused());

    ptr_result p = std::make_unique<int>(1);
    ptr_result q = rt::unexpected(timed_out());
    p.swap(q);
    EXPECT_EQ(p.error(), timed_out());
    EXPECT_EQ(**q, 1);
}

TEST(Expected, DestructorsRunExactlyOnceAcrossStateChanges) {
    counted::reset();
    counted_error::reset();
    {
        rt::expected<counted, counted_error> e(std::in_place, 1);
        EXPECT_EQ(counted::live(), 1);
        EXPECT_EQ(counted_error::live(), 0);

        e = rt::unexpected(counted_error(10)); // value -> error: the value is destroyed
        EXPECT_EQ(counted::live(), 0);
        EXPECT_EQ(counted_error::live(), 1);
        EXPECT_EQ(e.error().code, 10);

        e = rt::unexpected(counted_error(11)); // error -> error: assigned, not rebuilt
        EXPECT_EQ(counted_error::live(), 1);
        EXPECT_EQ(e.error().code, 11);

        e = counted(2); // error -> value: the error is destroyed
        EXPECT_EQ(counted::live(), 1);
        EXPECT_EQ(counted_error::live(), 0);
        EXPECT_EQ(e->id, 2);

        e = counted(3); // value -> value
        EXPECT_EQ(counted::live(), 1);
        EXPECT_EQ(e->id, 3);

        rt::expected<counted, counted_error> other(rt::unexpect, 20);
        e = other; // copy assignment value -> error
        EXPECT_EQ(counted::live(), 0);
        EXPECT_EQ(counted_error::live(), 2);

        other = counted(4);
        e = std::move(other); // move assignment error -> value
        EXPECT_EQ(counted::live(), 2);
        EXPECT_EQ(counted_error::live(), 0);

        e.emplace(5); // value -> value via emplace
        EXPECT_EQ(counted::live(), 2);
        EXPECT_EQ(e->id, 5);

        other = rt::unexpected(counted_error(30));
        other.emplace(6); // error -> value via emplace
        EXPECT_EQ(counted::live(), 2);
        EXPECT_EQ(counted_error::live(), 0);

        other = rt::unexpected(counted_error(31));
        swap(e, other); // value <-> error
        EXPECT_EQ(counted::live(), 1);
        EXPECT_EQ(counted_error::live(), 1);
        EXPECT_EQ(e.error().code, 31);
        EXPECT_EQ(other->id, 5);

        auto copy = e;
        auto moved = std::move(other);
        EXPECT_EQ(counted::live(), 2);
        EXPECT_EQ(counted_error::live(), 2);
    }
    EXPECT_GT(counted::constructed, 0);
    EXPECT_GT(counted_error::constructed, 0);
    EXPECT_EQ(counted::live(), 0);
    EXPECT_EQ(counted_error::live(), 0);
    EXPECT_EQ(counted::constructed, counted::destroyed);
    EXPECT_EQ(counted_error::constructed, counted_error::destroyed);
}

TEST(Expected, VoidSpecialisationDestroysItsErrorOnce) {
    counted_error::reset();
    {
        rt::expected<void, counted_error> e;
        e = rt::unexpected(counted_error(1));
        EXPECT_EQ(counted_error::live(), 1);
        e.emplace();
        EXPECT_EQ(counted_error::live(), 0);
        e = rt::unexpected(counted_error(2));
        rt::expected<void, counted_error> ok;
        swap(e, ok);
        EXPECT_EQ(counted_error::live(), 1);
        EXPECT_TRUE(e.has_value());
        EXPECT_EQ(ok.error().code, 2);
        e = ok; // copy assignment value -> error
        EXPECT_EQ(counted_error::live(), 2);
        e = rt::expected<void, counted_error>(); // move assignment error -> value
        EXPECT_EQ(counted_error::live(), 1);
    }
    EXPECT_EQ(counted_error::live(), 0);
}

TEST(Expected, FailedAssignmentKeepsTheOldContents) {
    throwing_copy::fail = false;
    {
        // T's construction may throw and T is not nothrow-movable: the error is parked in a
        // temporary and put back when building the value fails.
        rt::expected<throwing_copy, std::string> e(rt::unexpect, "still here");
        const throwing_copy source(5);
        throwing_copy::fail = true;
        EXPECT_THROW(e = source, std::runtime_error);
        throwing_copy::fail = false;
        ASSERT_FALSE(e.has_value());
        EXPECT_EQ(e.error(), "still here");

        e = source;
        ASSERT_TRUE(e.has_value());
        EXPECT_EQ(e->v, 5);

        // emplace builds the value first when its construction may throw.
        rt::expected<std::string, int> s = rt::unexpected(8);
        struct bad_source {
            operator std::string() const { throw std::runtime_error("no string"); }
        };
        EXPECT_THROW(s.emplace(bad_source{}), std::runtime_error);
        ASSERT_FALSE(s.has_value());
        EXPECT_EQ(s.error(), 8);
    }
    EXPECT_EQ(throwing_copy::live, 0);
}

// ---- equality --------------------------------------------------------------------------------

TEST(Expected, Equality) {
    int_result a = 1;
    int_result b = 1;
    int_result c = 2;
    int_result e1 = rt::unexpected(timed_out());
    int_result e2 = rt::unexpected(timed_out());
    int_result e3 = rt::unexpected(refused());

    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a != b);
    EXPECT_TRUE(a != c);
    EXPECT_TRUE(e1 == e2);
    EXPECT_TRUE(e1 != e3);
    EXPECT_TRUE(a != e1); // a value never equals an error

    // against a value, both ways round
    EXPECT_TRUE(a == 1);
    EXPECT_TRUE(1 == a);
    EXPECT_TRUE(a != 2);
    EXPECT_FALSE(e1 == 0);

    // against an unexpected, both ways round
    EXPECT_TRUE(e1 == rt::unexpected(timed_out()));
    EXPECT_TRUE(rt::unexpected(timed_out()) == e1);
    EXPECT_TRUE(e1 != rt::unexpected(refused()));
    EXPECT_FALSE(a == rt::unexpected(timed_out()));

    // heterogeneous
    rt::expected<long, std::error_code> wide = 1L;
    EXPECT_TRUE(a == wide);
    string_result s = "text";
    EXPECT_TRUE(s == "text");
    EXPECT_TRUE(s != std::string("other"));

    rt::expected<int, parse_error> pe = rt::unexpected(parse_error{1, "x"});
    EXPECT_TRUE(pe == rt::unexpected(parse_error{1, "x"}));
    EXPECT_TRUE(pe != rt::unexpected(parse_error{2, "x"}));
}

// ---- monadic operations ----------------------------------------------------------------------

int_result parse_digit(char c) {
    if (c < '0' || c > '9')
        return rt::unexpected(std::make_error_code(std::errc::invalid_argument));
    return c - '0';
}

TEST(Expected, AndThenChainsOrPassesTheErrorOn) {
    rt::expected<char, std::error_code> c = '7';
    auto d = c.and_then(parse_digit);
    static_assert(std::is_same_v<decltype(d), int_result>);
    EXPECT_EQ(*d, 7);

    rt::expected<char, std::error_code> bad = 'x';
    EXPECT_EQ(bad.and_then(parse_digit).error(), std::errc::invalid_argument);

    rt::expected<char, std::error_code> failed = rt::unexpected(timed_out());
    EXPECT_EQ(failed.and_then(parse_digit).error(), timed_out());

    ptr_result p = std::make_unique<int>(3);
    auto q = std::move(p).and_then([](std::unique_ptr<int>&& v) -> int_result { return *v + 1; });
    EXPECT_EQ(*q, 4);
}

TEST(Expected, TransformMapsTheValue) {
    const int_result three = 3;
    auto text = three.transform([](int v) { return std::to_string(v); });
    static_assert(std::is_same_v<decltype(text), string_result>);
    EXPECT_EQ(*text, "3");

    int_result failed = rt::unexpected(refused());
    EXPECT_EQ(failed.transform([](int v) { return v * 2; }).error(), refused());

    int calls = 0;
    auto nothing = three.transform([&](int) { ++calls; });
    static_assert(std::is_same_v<decltype(nothing), void_result>);
    EXPECT_TRUE(nothing.has_value());
    EXPECT_EQ(calls, 1);

    // the result is built in place, so it need not be movable
    auto pinned = three.transform([](int v) { return not_movable(v); });
    EXPECT_EQ(pinned->v, 3);
}

TEST(Expected, OrElseAndTransformErrorWorkOnTheError) {
    int_result failed = rt::unexpected(timed_out());
    auto recovered = failed.or_else([](const std::error_code&) -> int_result { return 0; });
    EXPECT_EQ(*recovered, 0);

    int_result good = 5;
    auto kept = good.or_else([](const std::error_code&) -> int_result { return 0; });
    EXPECT_EQ(*kept, 5);

    auto described = failed.transform_error([](const std::error_code& ec) { return ec.message(); });
    static_assert(std::is_same_v<decltype(described), rt::expected<int, std::string>>);
    EXPECT_EQ(described.error(), timed_out().message());
    EXPECT_EQ(*good.transform_error([](const std::error_code& ec) { return ec.value(); }), 5);
}

// ---- expected<void, E> -----------------------------------------------------------------------

TEST(ExpectedVoid, DefaultIsSuccess) {
    void_result ok;
    EXPECT_TRUE(ok.has_value());
    EXPECT_TRUE(static_cast<bool>(ok));
    EXPECT_NO_THROW(ok.value());
    *ok; // operator* is void and does nothing
    static_assert(std::is_void_v<decltype(*ok)>);
    static_assert(std::is_void_v<decltype(ok.value())>);

    void_result in_place(std::in_place);
    EXPECT_TRUE(in_place.has_value());
}

TEST(ExpectedVoid, HoldsAnError) {
    void_result bad = rt::unexpected(refused());
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), refused());
    try {
        bad.value();
        FAIL() << "value() did not throw";
    } catch (const rt::bad_expected_access<std::error_code>& ex) {
        EXPECT_EQ(ex.error(), refused());
    }
    EXPECT_THROW(std::move(bad).value(), rt::bad_expected_access<std::error_code>);

    rt::expected<void, std::string> with_text(rt::unexpect, 2, '!');
    EXPECT_EQ(with_text.error(), "!!");
    std::string taken = std::move(with_text).error();
    EXPECT_EQ(taken, "!!");

    rt::expected<void, parse_error> pe = rt::unexpected(parse_error{3, "x"});
    EXPECT_EQ(pe.error().line, 3);
    EXPECT_EQ(pe.error_or(parse_error{}), (parse_error{3, "x"}));
}

TEST(ExpectedVoid, AssignEmplaceSwap) {
    rt::expected<void, std::string> e;
    e = rt::unexpected(std::string("first"));
    EXPECT_EQ(e.error(), "first");
    e = rt::unexpected(std::string("second"));
    EXPECT_EQ(e.error(), "second");
    e.emplace();
    EXPECT_TRUE(e.has_value());
    e.emplace(); // idempotent
    EXPECT_TRUE(e.has_value());

    rt::expected<void, std::string> f(rt::unexpect, "f");
    e.swap(f);
    EXPECT_EQ(e.error(), "f");
    EXPECT_TRUE(f.has_value());

    rt::expected<void, std::string> g = e; // copy
    EXPECT_EQ(g.error(), "f");
    rt::expected<void, std::string> h = std::move(g); // move
    EXPECT_EQ(h.error(), "f");
    h = f; // copy assign error -> success
    EXPECT_TRUE(h.has_value());

    rt::expected<void, std::unique_ptr<int>> move_only(rt::unexpect, std::make_unique<int>(1));
    auto moved = std::move(move_only);
    EXPECT_EQ(*moved.error(), 1);
    static_assert(!std::is_copy_constructible_v<decltype(moved)>);
}

TEST(ExpectedVoid, Equality) {
    void_result a;
    void_result b;
    void_result e1 = rt::unexpected(timed_out());
    void_result e2 = rt::unexpected(timed_out());
    void_result e3 = rt::unexpected(refused());
    EXPECT_TRUE(a == b);
    EXPECT_TRUE(e1 == e2);
    EXPECT_TRUE(e1 != e3);
    EXPECT_TRUE(a != e1);
    EXPECT_TRUE(e1 == rt::unexpected(timed_out()));
    EXPECT_TRUE(rt::unexpected(refused()) == e3);
    EXPECT_FALSE(a == rt::unexpected(timed_out()));
}

TEST(ExpectedVoid, MonadicAndConversion) {
    void_result ok;
    int calls = 0;
    auto next = ok.and_then([&]() -> int_result { return ++calls; });
    EXPECT_EQ(*next, 1);
    auto mapped = ok.transform([] { return 5; });
    static_assert(std::is_same_v<decltype(mapped), int_result>);
    EXPECT_EQ(*mapped, 5);

    void_result bad = rt::unexpected(refused());
    EXPECT_EQ(bad.transform([] { return 5; }).error(), refused());
    EXPECT_TRUE(bad.or_else([](std::error_code) -> void_result { return {}; }).has_value());
    EXPECT_EQ(bad.transform_error([](std::error_code ec) { return ec.value(); }).error(),
              refused().value());

    rt::expected<void, int> narrow = rt::unexpected(4);
    rt::expected<void, long> wide = narrow;
    EXPECT_EQ(wide.error(), 4L);
}

} // namespace
