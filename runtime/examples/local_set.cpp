// The chapter's LocalSet example: 100 local tasks each sleep one second, then increment a counter
// that is not thread-safe (a plain int behind a shared_ptr, like Rust's Rc). Prints "100" after
// about one second, because the sleeps overlap.
#include <rt/rt.hpp>

#include <chrono>
#include <iostream>
#include <memory>

using namespace std::chrono_literals;

rt::task<> increment_later(std::shared_ptr<int> counter) {
    co_await rt::sleep(1s); // Sleep for 1 second
    ++*counter;             // safe: local tasks all run on the thread that drives the set
}

rt::task<> async_main() {
    auto counter = std::make_shared<int>(0); // shared_ptr, no atomics or locks needed
    rt::local_set local_set;
    for (int i = 0; i < 100; ++i)
        local_set.spawn_local(increment_later(counter)); // spawn a task on the current thread
    co_await local_set;
    std::cout << *counter << "\n";
}

int main() {
    rt::run(async_main());
}
