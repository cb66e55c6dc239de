// The chapter's mutex example: a spawned task locks a shared mutex and stores 2; main awaits the
// task and prints the mutex. Prints "Mutex { data: 2 }".
#include <rt/rt.hpp>

#include <iostream>
#include <memory>

rt::task<> async_main() {
    auto m = std::make_shared<rt::mutex<int>>(1);

    auto t = rt::spawn([](std::shared_ptr<rt::mutex<int>> shared) -> rt::task<> {
        auto guard = co_await shared->lock();
        *guard = 2;
    }(m));
    co_await t;

    // Like Tokio's Debug for Mutex: the value when it can be locked without waiting.
    if (auto guard = m->try_lock())
        std::cout << "Mutex { data: " << **guard << " }\n";
    else
        std::cout << "Mutex { data: <locked> }\n";
}

int main() {
    rt::run(async_main());
}
