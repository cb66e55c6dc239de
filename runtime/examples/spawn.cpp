// The chapter's "Task" example: spawn from an async function and from an async block, await the
// join handles, print the results. Prints "Ok(1)" then "Ok(5)".
#include <rt/rt.hpp>

#include <iostream>

rt::task<int> get_1() {
    co_return 1;
}

template <class T>
void print(const rt::expected<T, rt::join_error>& r) {
    if (r)
        std::cout << "Ok(" << *r << ")\n";
    else
        std::cout << "Err(" << r.error().what() << ")\n";
}

rt::task<> async_main() {
    // Creating a task from an async function call
    rt::join_handle<int> t1 = rt::spawn(get_1());
    rt::expected<int, rt::join_error> result1 = co_await t1;
    print(result1); // Ok(1)

    // Creating a task from an async block (a lambda coroutine without captures)
    rt::join_handle<int> t2 = rt::spawn([]() -> rt::task<int> { co_return 5; }());
    rt::expected<int, rt::join_error> result2 = co_await t2;
    print(result2); // Ok(5)
}

int main() {
    rt::run(async_main());
}
