// The chapter's oneshot example: send one value, await the receiver. Prints "Ok(1)".
#include <rt/rt.hpp>

#include <iostream>

rt::task<> async_main() {
    auto [snd, rcv] = rt::oneshot::channel<int>(); // create the channel

    // send consumes the sender (it is called on an rvalue), so it can only be called once.
    (void)std::move(snd).send(1);

    // The receiver is move-only, so it can only be passed to a single place. Since a oneshot
    // carries a single message, the receiver itself is awaited.
    auto r = co_await rcv;

    if (r)
        std::cout << "Ok(" << *r << ")\n"; // Ok(1)
    else
        std::cout << "Err(" << r.error().what() << ")\n";
}

int main() {
    rt::run(async_main());
}
