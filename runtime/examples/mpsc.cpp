// The chapter's mpsc example: two tasks each send one number on an unbounded channel; main reads
// in a loop, selecting between the next message and a one-second sleep, and stops when a second
// passes without a message. Prints "Received: 1" and "Received: 2" (in either order).
#include <rt/rt.hpp>

#include <chrono>
#include <iostream>
#include <optional>

using namespace std::chrono_literals;

rt::task<> async_main() {
    // Create a channel
    auto [snd, rcv] = rt::mpsc::unbounded_channel<int>();

    // Send a number to the channel from a new task
    rt::spawn([](rt::mpsc::unbounded_sender<int> tx) -> rt::task<> {
        (void)tx.send(1);
        co_return;
    }(snd));
    // Send a number to the channel from another new task
    rt::spawn([](rt::mpsc::unbounded_sender<int> tx) -> rt::task<> {
        (void)tx.send(2);
        co_return;
    }(snd));

    // Read numbers from the channel in a loop and print them to the console.
    // If no new messages arrive within one second, terminate the loop.
    for (;;) {
        auto r = co_await rt::select(rcv.recv(), rt::sleep(1s));
        std::optional<int> msg = r.index() == 0 ? std::get<0>(std::move(r)) : std::nullopt;
        if (!msg)
            break;
        std::cout << "Received: " << *msg << "\n";
    }
}

int main() {
    rt::run(async_main());
}
