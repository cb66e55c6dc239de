// The message queue inside an rt::mpmc channel: a ring buffer that grows by doubling.
//
// Not thread-safe; the channel guards it with its lock. The capacity is a power of two that
// doubles when a push finds it full and never shrinks, so a channel in its steady state allocates
// nothing; a bounded channel never holds more than its bound, so its ring stops growing at the
// power of two at or above it (memory is only taken as the queue actually fills). Elements must
// move without throwing, so that moving them into a bigger buffer cannot fail half-way.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace rt::detail {

template <class T>
class mpmc_ring {
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "rt::mpmc messages must be nothrow move constructible");

public:
    mpmc_ring() noexcept = default;
    mpmc_ring(const mpmc_ring&) = delete;
    mpmc_ring& operator=(const mpmc_ring&) = delete;
    ~mpmc_ring() {
        clear();
        if (buf_ != nullptr)
            std::allocator<T>().deallocate(buf_, cap_);
    }

    void swap(mpmc_ring& o) noexcept {
        std::swap(buf_, o.buf_);
        std::swap(cap_, o.cap_);
        std::swap(head_, o.head_);
        std::swap(size_, o.size_);
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }

    /// May throw std::bad_alloc when it has to grow; the ring and `v` are then unchanged.
    void push_back(T&& v) {
        if (size_ == cap_)
            grow();
        std::construct_at(buf_ + ((head_ + size_) & (cap_ - 1)), std::move(v));
        ++size_;
    }

    /// Moves the oldest element into `out`. Precondition: !empty().
    void pop_front_into(std::optional<T>& out) noexcept {
        T* p = buf_ + head_;
        out.emplace(std::move(*p));
        std::destroy_at(p);
        head_ = (head_ + 1) & (cap_ - 1);
        --size_;
    }

    void clear() noexcept {
        for (; size_ != 0; --size_) {
            std::destroy_at(buf_ + head_);
            head_ = (head_ + 1) & (cap_ - 1);
        }
        head_ = 0;
    }

private:
    void grow() {
        const std::size_t n = cap_ == 0 ? 8 : cap_ * 2;
        T* nb = std::allocator<T>().allocate(n);
        for (std::size_t i = 0; i < size_; ++i) {
            T* p = buf_ + ((head_ + i) & (cap_ - 1));
            std::construct_at(nb + i, std::move(*p));
            std::destroy_at(p);
        }
        if (buf_ != nullptr)
            std::allocator<T>().deallocate(buf_, cap_);
        buf_ = nb;
        cap_ = n;
        head_ = 0;
    }

    T* buf_ = nullptr;
    std::size_t cap_ = 0; // zero or a power of two
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

} // namespace rt::detail
