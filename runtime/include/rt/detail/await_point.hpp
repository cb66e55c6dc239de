// Await points: where a suspended rt::task frame is waiting, for introspection's async backtrace.
//
// Every rt::task frame carries one await_record in its promise. The promise's await_transform
// fills it at each `co_await` (the compiler passes the co_await's own source location as a
// default argument), so the record always names the await the frame is suspended in: what it
// awaits, where the co_await is written, and, when it awaits another rt::task, that task's
// record. The chain root -> child -> ... -> leaf is the task's async backtrace.
//
// Cost: three plain stores into the frame per co_await; nothing is allocated and every pointer
// stored points into static data (the awaitable type's await_kind, source locations) or into the
// frame. The record is 24 bytes (on g++) because every task frame carries one.
//
// Who reads: only a snapshot that has pinned the task (see pin() in runtime/src/introspect/), i.e.
// owns the task's RUNNING bit, so no thread can resume, free or rewrite the frames meanwhile.
//
// THE HOOK for awaitables (what other primitives add to show up by name):
//
//     class my_recv_awaiter {
//     public:
//         RT_AWAIT_POINT("mpsc::recv");                       // what the chain shows
//         void await_describe(std::string& out) const {       // optional detail text; runs only
//             out = "channel 0x..., 3 queued";                // in a snapshot, on a pinned task
//         }
//         ...
//     };
//
// The type that declares it is the one written after `co_await` (the awaitable, e.g. a
// join_handle, or the awaiter a factory returns, e.g. rt::sleep's). Awaitables without it still
// get their co_await location, with `what` reported as "unknown".
#pragma once

#include "rt/detail/source_location.hpp"

#include <cstdio>
#include <string>
#include <type_traits>

/// Names an awaitable type in await chains; put it in the class body.
#define RT_AWAIT_POINT(what_literal) static constexpr const char* await_what = what_literal

namespace rt::detail {

struct await_record;

/// What is known of an awaitable type, once per type (static data).
struct await_kind {
    const char* what = nullptr; // null: "unknown"
    void (*describe)(const void* awaitable, std::string& out) = nullptr;
    /// The awaited rt::task's own record; null for every other kind.
    const await_record* (*child)(const void* awaitable) = nullptr;
};

/// What one frame is suspended in. Written by the frame's own thread at each co_await.
struct await_record {
    const await_kind* kind = nullptr; // null until the first co_await
    const void* awaitable = nullptr;
    rt::source_location where;

    const char* what() const noexcept { return kind != nullptr ? kind->what : nullptr; }
};

template <class A>
concept named_await = requires {
    std::remove_cvref_t<A>::await_what;
};

template <class A>
concept described_await = requires(const std::remove_cvref_t<A>& a, std::string& out) {
    a.await_describe(out);
};

template <class A>
void describe_await(const void* a, std::string& out) {
    static_cast<const std::remove_cvref_t<A>*>(a)->await_describe(out);
}

template <class A>
constexpr await_kind make_await_kind() noexcept {
    await_kind k;
    if constexpr (named_await<A>)
        k.what = std::remove_cvref_t<A>::await_what;
    if constexpr (described_await<A>)
        k.describe = &describe_await<A>;
    return k;
}

/// The await_kind of awaitable type A (not an rt::task; task.hpp has its own).
template <class A>
inline constexpr await_kind await_kind_of = make_await_kind<std::remove_cvref_t<A>>();

/// Appends "0x..." for `p`: names a channel or notify in detail text.
inline void append_address(std::string& out, const void* p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", p);
    out += buf;
}

/// Fills `r` for a co_await of `a` (not an rt::task; task.hpp handles those).
template <class A>
inline void record_await(await_record& r, const A& a, const rt::source_location& where) noexcept {
    r.kind = &await_kind_of<std::remove_cvref_t<A>>;
    r.awaitable = &a;
    r.where = where;
}

} // namespace rt::detail
