// The chapter's watch example: a receiver sees only the latest value, and each receiver tracks
// what it has seen. Prints the seven lines the chapter shows.
#include <rt/rt.hpp>

#include <iostream>

rt::task<> async_main() {
    auto [snd, rcv] = rt::watch::channel<int>(0);
    std::cout << std::boolalpha;

    // has_changed() says whether values arrived that THIS receiver has not seen yet.
    std::cout << "Has new messages: " << rcv.has_changed() << "\n";

    (void)snd.send(1);
    (void)snd.send(2);
    (void)snd.send(3);

    {
        auto rcv1 = rcv; // a copy is another receiver, starting from what rcv has seen
        std::cout << "Receiver 1 changed: " << rcv1.has_changed() << "\n";
        {
            // borrow_and_update() gives a read guard on the latest value and marks it seen.
            auto guard = rcv1.borrow_and_update();
            std::cout << "Receiver 1 value: " << *guard << "\n";
        }
        std::cout << "Receiver 1 changed: " << rcv1.has_changed() << "\n";
    }

    {
        auto rcv2 = rcv;
        std::cout << "Receiver 2 changed: " << rcv2.has_changed() << "\n";
        {
            auto guard = rcv2.borrow_and_update();
            std::cout << "Receiver 2 value: " << *guard << "\n";
        }
        std::cout << "Receiver 2 changed: " << rcv2.has_changed() << "\n";
    }
    co_return;
}

int main() {
    rt::run(async_main());
}
