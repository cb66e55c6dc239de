// The chapter's async_channel example: four producers each send one number on an unbounded MPMC
// channel; two workers take messages until a second passes with none, sleeping 100 ms after each.
// Every number is received exactly once, by one worker or the other:
// "worker-N > received: V" for V = 1..4.
#include <rt/rt.hpp>

#include <chrono>
#include <iostream>
#include <sstream>

using namespace std::chrono_literals;

// Creates a task that sends a specified value into the channel
void make_producer(const rt::mpmc::unbounded_sender<int>& snd, int value) {
    rt::spawn([](rt::mpmc::unbounded_sender<int> tx, int v) -> rt::task<> {
        (void)tx.send(v); // unbounded: never waits
        co_return;
    }(snd, value));
}

// Creates a worker task that reads messages from the channel in a loop and prints them.
// If no new messages arrive within one second, the worker terminates.
rt::join_handle<void> make_worker(const rt::mpmc::receiver<int>& rcv, const char* name) {
    return rt::spawn([](rt::mpmc::receiver<int> rx, const char* worker) -> rt::task<> {
        for (;;) {
            auto r = co_await rt::select(rx.recv(), rt::sleep(1s));
            if (r.index() == 1)
                break;
            std::ostringstream line; // one write per line: the workers print concurrently
            line << worker << " > received: " << std::get<0>(r).value() << "\n";
            std::cout << line.str() << std::flush;
            co_await rt::sleep(100ms);
        }
    }(rcv, name));
}

rt::task<> async_main() {
    auto [snd, rcv] = rt::mpmc::unbounded_channel<int>();
    make_producer(snd, 1);
    make_producer(snd, 2);
    make_producer(snd, 3);
    make_producer(snd, 4);

    auto t1 = make_worker(rcv, "worker-1");
    auto t2 = make_worker(rcv, "worker-2");
    co_await t1;
    co_await t2;
}

int main() {
    rt::run(async_main());
}
