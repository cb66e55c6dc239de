// rt::source_location: where a task was spawned or an await was written.
//
// std::source_location where the compiler supports it (g++); clang 14 with libstdc++ 12 has no
// __builtin_source_location, so there a small type with the same members stands in, filled by the
// __builtin_FILE/LINE/FUNCTION default arguments, which both compilers evaluate at the call site.
#pragma once

#include <cstdint>

#if defined(__has_builtin)
#if __has_builtin(__builtin_source_location)
#define RT_HAS_STD_SOURCE_LOCATION 1
#endif
#endif

#ifdef RT_HAS_STD_SOURCE_LOCATION
#include <source_location>
#endif

namespace rt {

#ifdef RT_HAS_STD_SOURCE_LOCATION
using source_location = std::source_location;
#else
class source_location {
public:
    static constexpr source_location current(const char* file = __builtin_FILE(),
                                             const char* function = __builtin_FUNCTION(),
                                             std::uint_least32_t line = __builtin_LINE()) noexcept {
        source_location l;
        l.file_ = file;
        l.function_ = function;
        l.line_ = line;
        return l;
    }
    constexpr source_location() noexcept = default;
    constexpr const char* file_name() const noexcept { return file_; }
    constexpr const char* function_name() const noexcept { return function_; }
    constexpr std::uint_least32_t line() const noexcept { return line_; }
    constexpr std::uint_least32_t column() const noexcept { return 0; }

private:
    const char* file_ = "";
    const char* function_ = "";
    std::uint_least32_t line_ = 0;
};
#endif

} // namespace rt
