// Shared plumbing of the whole-program benchmarks: argument parsing, clocks, getrusage, percentiles
// and the single JSON line every program prints on stdout for tests/bench/report.py.
//
// Standard library and POSIX only: both the rt and the Boost.Asio programs include it, so the
// measured region is delimited and reported the same way for both implementations.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bench {

using clock = std::chrono::steady_clock;

// Options are `--key value` or `--key=value`; a single bare number is taken as `--n`.
// Unknown keys are an error so that a typo does not silently run the default configuration.
class args {
public:
    args(int argc, char** argv, std::vector<std::string> known) : known_(std::move(known)) {
        known_.push_back("threads");
        known_.push_back("timeout");
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--help" || a == "-h")
                usage(argv[0], 0);
            if (a.rfind("--", 0) != 0) {
                set(argv[0], "n", a);
                continue;
            }
            a = a.substr(2);
            if (auto eq = a.find('='); eq != std::string::npos) {
                set(argv[0], a.substr(0, eq), a.substr(eq + 1));
            } else if (i + 1 < argc) {
                set(argv[0], a, argv[++i]);
            } else {
                std::fprintf(stderr, "%s: option --%s needs a value\n", argv[0], a.c_str());
                usage(argv[0], 2);
            }
        }
    }

    std::uint64_t get(const std::string& key, std::uint64_t def) const {
        auto it = values_.find(key);
        if (it == values_.end())
            return def;
        return std::strtoull(it->second.c_str(), nullptr, 10);
    }

    // Worker threads: defaults to the number of cores, like both runtimes' defaults.
    unsigned threads() const { return static_cast<unsigned>(get("threads", cores())); }
    // For a server that shares the machine with its load generator: one core fewer (at least
    // one), so that server and client threads are not more than the cores.
    unsigned threads_beside_load() const {
        return static_cast<unsigned>(get("threads", std::max(1u, cores() - 1)));
    }
    static unsigned cores() { return std::max(1u, std::thread::hardware_concurrency()); }

    // Seconds after which the watchdog ends the program (see start_watchdog).
    unsigned timeout_s(unsigned def) const { return static_cast<unsigned>(get("timeout", def)); }

private:
    void set(const char* prog, const std::string& key, const std::string& value) {
        if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
            std::fprintf(stderr, "%s: unknown option --%s\n", prog, key.c_str());
            usage(prog, 2);
        }
        char* end = nullptr;
        std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0') {
            std::fprintf(stderr, "%s: --%s wants a non-negative integer, got '%s'\n", prog,
                         key.c_str(), value.c_str());
            std::exit(2);
        }
        values_[key] = value;
    }

    [[noreturn]] void usage(const char* prog, int code) const {
        std::fprintf(code == 0 ? stdout : stderr, "usage: %s", prog);
        for (const auto& k : known_)
            std::fprintf(code == 0 ? stdout : stderr, " [--%s N]", k.c_str());
        std::fprintf(code == 0 ? stdout : stderr, "\n");
        std::exit(code);
    }

    std::vector<std::string> known_;
    std::map<std::string, std::string> values_;
};

// Process CPU time (user + sys, all threads) in seconds.
inline double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Peak resident set size of the process so far, in bytes (ru_maxrss is KiB on Linux).
inline std::uint64_t peak_rss_bytes() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return std::uint64_t(ru.ru_maxrss) * 1024;
}

// Wall and CPU time of the measured region; start() and stop() are called by the root task.
struct region {
    clock::time_point wall0{}, wall1{};
    double cpu0 = 0, cpu1 = 0;

    void start() {
        cpu0 = cpu_seconds();
        wall0 = clock::now();
    }
    void stop() {
        wall1 = clock::now();
        cpu1 = cpu_seconds();
    }
    double wall_s() const { return std::chrono::duration<double>(wall1 - wall0).count(); }
    double cpu_s() const { return cpu1 - cpu0; }
};

// Nearest-rank percentile (p in [0, 100]) of an unsorted sample; sorts it in place.
template <class T>
double percentile(std::vector<T>& v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(p / 100.0 * double(v.size()) + 0.5);
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return double(v[rank - 1]);
}

// Builds the one JSON line; values are numbers except bench/impl/error.
class json_line {
public:
    json_line(const char* bench_name, const char* impl) {
        text_ = "{\"bench\":\"" + std::string(bench_name) + "\",\"impl\":\"" + impl + "\"";
    }
    json_line& num(const char* key, double v) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", v);
        return raw(key, buf);
    }
    json_line& integer(const char* key, std::uint64_t v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%" PRIu64, v);
        return raw(key, buf);
    }
    json_line& str(const char* key, const std::string& v) {
        std::string q = "\"";
        for (char c : v)
            q += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        return raw(key, q + "\"");
    }
    // Prints the line (plus the peak RSS of the whole process) and flushes.
    void print() {
        num("peak_rss_mb", double(peak_rss_bytes()) / (1024.0 * 1024.0));
        std::printf("%s}\n", text_.c_str());
        std::fflush(stdout);
    }

private:
    json_line& raw(const char* key, const std::string& v) {
        text_ += ",\"" + std::string(key) + "\":" + v;
        return *this;
    }
    std::string text_;
};

// A benchmark that hangs (a lost wake-up, a deadlock) must not hang the runner: after `seconds`
// the watchdog prints an error line in the same format and ends the process with status 3.
inline void start_watchdog(const char* bench_name, const char* impl, unsigned seconds) {
    if (seconds == 0)
        return;
    std::thread([=] {
        std::this_thread::sleep_for(std::chrono::seconds(seconds));
        std::printf(
            "{\"bench\":\"%s\",\"impl\":\"%s\",\"error\":\"watchdog: no result after %us\"}\n",
            bench_name, impl, seconds);
        std::fflush(stdout);
        std::_Exit(3);
    }).detach();
}

// Wrong results end the program: a fast wrong answer is not a measurement.
[[noreturn]] inline void fail(const char* bench_name, const char* impl, const std::string& what) {
    std::printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"error\":\"%s\"}\n", bench_name, impl,
                what.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "%s/%s: %s\n", bench_name, impl, what.c_str());
    std::_Exit(1);
}

} // namespace bench
