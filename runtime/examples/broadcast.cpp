// The chapter's broadcast example: three receivers, each in its own task, each get their own copy
// of the one message sent. Prints "rcv-N > msg: Ok(5)" for N = 1, 2, 3 in any order.
#include <rt/rt.hpp>

#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;

// Creates a receiver "living" in a separate task. The receiver gets one message, prints it, and
// terminates.
void spawn_receiver(const char* name, const rt::broadcast::receiver<int>& rcv) {
    rt::spawn([](const char* who, rt::broadcast::receiver<int> rx) -> rt::task<> {
        auto msg = co_await rx.recv();
        std::ostringstream line; // one write per line: the tasks print concurrently
        if (msg)
            line << who << " > msg: Ok(" << *msg << ")\n";
        else
            line << who << " > msg: Err(" << msg.error().what() << ")\n";
        std::cout << line.str() << std::flush;
    }(name, rcv.resubscribe()));
}

rt::task<> async_main() {
    auto [snd, rcv] = rt::broadcast::channel<int>(100);

    spawn_receiver("rcv-1", rcv);
    spawn_receiver("rcv-2", rcv);
    spawn_receiver("rcv-3", rcv);

    (void)snd.send(5);

    // As in the chapter: block this thread (not a task's await) while the receivers run on the
    // runtime's workers.
    std::this_thread::sleep_for(1s);
    co_return;
}

int main() {
    rt::run(async_main());
}
