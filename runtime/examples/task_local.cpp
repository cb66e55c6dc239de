// The chapter's task-local examples: NUM (a copyable value read with get()) and NAME (read by
// reference with with()). Prints "NUM = 1", "NUM = 2", "NAME = A", "NAME = B".
#include <rt/rt.hpp>

#include <iostream>
#include <string>

RT_TASK_LOCAL(int, NUM);
RT_TASK_LOCAL(std::string, NAME);

void print_num() {
    std::cout << "NUM = " << NUM.get() << "\n";
}

void print_name() {
    NAME.with([](const std::string& name) { std::cout << "NAME = " << name << "\n"; });
}

rt::task<> call(void (*f)()) {
    f();
    co_return;
}

rt::task<> async_main() {
    co_await NUM.scope(1, call(print_num));
    co_await NUM.scope(2, call(print_num));
    co_await NAME.scope("A", call(print_name));
    co_await NAME.scope("B", call(print_name));
}

int main() {
    rt::run(async_main());
}
