// An outside program built against the installed rt package.
#include <rt/rt.hpp>

#include <chrono>
#include <iostream>

rt::task<int> half(int x) {
    co_await rt::sleep(std::chrono::milliseconds(1));
    co_return x / 2;
}

rt::task<int> async_main() {
    auto h = rt::spawn(half(84));
    auto r = co_await h;
    co_return r ? *r : -1;
}

int main() {
    auto rt = rt::runtime::builder().worker_threads(2).build();
    std::cout << "consumer: " << rt.block_on(async_main()) << "\n";
}
