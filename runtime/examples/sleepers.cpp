// The chapter's "task vs thread" example: a million tasks that each sleep for one second, all
// joined. Usage: example_sleepers [N] (default 1,000,000). Prints the count and the wall time.
#include <rt/rt.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <vector>

using namespace std::chrono_literals;

rt::task<> sleeper() {
    co_await rt::sleep(1s);
}

rt::task<std::size_t> async_main(std::size_t n) {
    std::vector<rt::join_handle<void>> handles;
    handles.reserve(n);
    for (std::size_t i = 1; i < n; ++i)
        handles.push_back(rt::spawn(sleeper()));
    std::size_t joined = 0;
    for (auto& handle : handles)
        joined += (co_await handle).has_value() ? 1 : 0;
    co_return joined;
}

int main(int argc, char** argv) {
    std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    auto start = std::chrono::steady_clock::now();
    std::size_t joined = rt::run(async_main(n));
    auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "joined " << joined << " sleeping tasks in " << wall << " s\n";
    return joined + 1 == n ? 0 : 1;
}
