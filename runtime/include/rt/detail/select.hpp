// The machinery under rt::select and rt::timeout: run several awaitables inside the current
// task, finish with the first that completes, and destroy the others on the spot.
//
// Each branch is a small rt::task that awaits its awaitable (moved into the branch's frame, or
// referenced when it was passed as an lvalue) and runs on a strand of its own whose parent is the
// awaiting strand. Wakes mark the branch's strand, then its ancestors; while the select is pending,
// the parent strand is driven by this object, which resumes exactly the marked branches.
//
// Cancellation: losers are destroyed before the awaiting coroutine continues, so every loser's
// awaiter has unregistered (and marks no strand) by then; a mark a loser left on the parent strand
// is cleared for the same reason. A branch that never started is destroyed without running.
// Order: branches start in argument order and the first to complete wins, so a branch that is
// ready at once beats the ones after it (as tokio::select! with `biased;`).
#pragma once

#include "rt/detail/awaitable_traits.hpp"
#include "rt/detail/context.hpp"
#include "rt/task/task.hpp"

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace rt::detail {

template <class T>
using variant_slot_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class A>
task<await_result_t<A>> select_branch(A a) {
    co_return co_await static_cast<A&&>(a);
}

template <class... As>
class select_awaitable final : strand_driver {
    static constexpr std::size_t n = sizeof...(As);
    static constexpr std::size_t none = static_cast<std::size_t>(-1);

public:
    using result_type = std::variant<variant_slot_t<await_result_t<As>>...>;

    template <class... Args>
    explicit select_awaitable(Args&&... args)
        : branches_(select_branch<As>(std::forward<Args>(args))...) {}
    select_awaitable(select_awaitable&& o) noexcept
        : branches_(std::move(o.branches_)), winner_(o.winner_) {}
    select_awaitable(const select_awaitable&) = delete;
    select_awaitable& operator=(const select_awaitable&) = delete;
    select_awaitable& operator=(select_awaitable&&) = delete;
    ~select_awaitable() {
        if (home_ != nullptr && home_->driver == this)
            home_->driver = nullptr;
        destroy_branches(none);
    }

    RT_AWAIT_POINT("select");
    /// "N branches: sleep | mpmc::recv": what each branch still running awaits.
    void await_describe(std::string& out) const {
        out = std::to_string(n) + " branches:";
        for (std::size_t i = 0; i < n; ++i) {
            out += i == 0 ? " " : " | ";
            const char* w = branch_what(i);
            out += w != nullptr ? w : "-";
        }
    }
    /// What branch i awaits now; null when it finished, was dropped or never started.
    const char* branch_what(std::size_t i) const noexcept {
        return branch_what_impl(i, std::index_sequence_for<As...>{});
    }

    bool await_ready() const noexcept { return false; }

    bool await_suspend(std::coroutine_handle<> parent) {
        home_ = tls.current;
        parent_ = parent;
        for (std::size_t i = 0; i < n && winner_ == none; ++i) {
            strands_[i].parent = home_;
            strands_[i].leaf = handle(i);
            strands_[i].resume();
            if (handle(i).done())
                winner_ = i;
        }
        if (winner_ != none) {
            settle();
            return false;
        }
        if (home_ != nullptr)
            home_->driver = this;
        return true;
    }

    result_type await_resume() { return take<0>(); }

    /// Which branch won (valid after the await).
    std::size_t winner() const noexcept { return winner_; }

private:
    void drive() override {
        for (std::size_t i = 0; i < n && winner_ == none; ++i) {
            if (handle(i) && !handle(i).done() &&
                (strands_[i].driver != nullptr || strands_[i].take_ready())) {
                strands_[i].resume();
                if (handle(i).done())
                    winner_ = i;
            }
        }
        if (winner_ == none)
            return;
        home_->driver = nullptr;
        settle();
        parent_.resume();
    }

    // Destroys the losers, then drops marks they may have left on the awaiting strand.
    void settle() noexcept {
        destroy_branches(winner_);
        if (home_ != nullptr)
            home_->ready.store(false, memory_order_relaxed);
    }

    std::coroutine_handle<> handle(std::size_t i) const noexcept {
        return handle_impl(i, std::index_sequence_for<As...>{});
    }
    template <std::size_t... I>
    std::coroutine_handle<> handle_impl(std::size_t i, std::index_sequence<I...>) const noexcept {
        std::coroutine_handle<> h;
        ((i == I ? (void)(h = std::get<I>(branches_).handle()) : void()), ...);
        return h;
    }

    template <std::size_t... I>
    const char* branch_what_impl(std::size_t i, std::index_sequence<I...>) const noexcept {
        const char* w = nullptr;
        (
            [&] {
                if (i != I)
                    return;
                auto h = std::get<I>(branches_).handle();
                if (h && !h.done())
                    w = h.promise().await_.what();
            }(),
            ...);
        return w;
    }

    void destroy_branches(std::size_t keep) noexcept {
        destroy_impl(keep, std::index_sequence_for<As...>{});
    }
    template <std::size_t... I>
    void destroy_impl(std::size_t keep, std::index_sequence<I...>) noexcept {
        ((I != keep ? (void)(std::get<I>(branches_) = {}) : void()), ...);
    }

    template <std::size_t I>
    result_type take() {
        if constexpr (I == n) {
            throw std::logic_error("rt::select: no branch completed");
        } else {
            if (winner_ != I)
                return take<I + 1>();
            auto& t = std::get<I>(branches_);
            if constexpr (std::is_void_v<
                              await_result_t<std::tuple_element_t<I, std::tuple<As...>>>>) {
                t.handle().promise().result().take();
                return result_type(std::in_place_index<I>);
            } else {
                return result_type(std::in_place_index<I>, t.handle().promise().result().take());
            }
        }
    }

    std::tuple<task<await_result_t<As>>...> branches_;
    std::array<strand, n> strands_;
    strand* home_ = nullptr;
    std::coroutine_handle<> parent_;
    std::size_t winner_ = none;
};

} // namespace rt::detail
