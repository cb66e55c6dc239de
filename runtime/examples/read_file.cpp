// The chapter's first example, the asynchronous file read: open /etc/fstab, read it to a string,
// print it (println! adds a newline). A path given as the first argument replaces /etc/fstab.
// `.unwrap()` becomes unwrap(): on an error it prints the error and exits with 101, as a Rust
// panic in main does.
#include <rt/rt.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace {

const char* path_arg = "/etc/fstab";

template <class T>
T unwrap(rt::io_result<T>&& r) {
    if (!r) {
        std::cerr << "called `Result::unwrap()` on an `Err` value: " << r.error().message() << '\n';
        std::exit(101);
    }
    return std::move(*r);
}

rt::task<> async_main() {
    rt::fs::file file = unwrap(co_await rt::fs::file::open(path_arg));

    std::string contents;
    unwrap(co_await file.read_to_string(contents));

    std::cout << contents << '\n';
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1)
        path_arg = argv[1];
    rt::run(async_main());
}
