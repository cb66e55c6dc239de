#!/usr/bin/env bash
# Runs the benchmarks, rt against a baseline, and prints one table. The runtime-core programs
# (sleepers, spawn, yield, pingpong, join_chain) and echo compare with Boost.Asio C++20
# coroutines; the channel and lock programs (mpsc_1to1, mpsc_4to1, mpmc_4to4, mutex) compare with
# plain std::thread code using std::mutex / std::condition_variable. "pingpong" passes a counter
# between two long-lived tasks; "join_chain" passes it down and up chains of spawned tasks.
#
#   tests/bench/run.sh [--quick] [--only NAME[,NAME...]] [--impl rt|base|both] [--threads N]
#                      [--repeat R] [--no-build] [--build-dir DIR] [--out FILE] [--markdown]
#
# Without --build-dir, builds the "bench" preset (configuring it when build/bench does not exist
# yet); --build-dir names an already configured tree (or the folder holding the bench_* programs).
# Each program runs for rt and then for its baseline, one at a time (never concurrently: they
# would steal each other's cores), each under `timeout` and its own watchdog. Every program prints
# one JSON line; the lines go to FILE (default <build dir>/results-<time>.jsonl) and
# tests/bench/report.py turns them into the table (the median when --repeat R runs each pair R
# times, rt and baseline alternating). --quick uses small sizes for a smoke run (seconds).
# --impl base (or asio, or threads) runs only the baselines. "echo" is a TCP echo server against
# Boost.Asio (64 connections of 64-byte requests), on rt's epoll backend; "echo_uring" the same on
# rt's io_uring backend; "echo_large" and "echo_large_uring" 16 connections of 64 KiB messages;
# "echo_ceiling" rt's epoll echo against a server with no runtime at all (echo_raw.cpp: the most
# this machine and load generator allow). The echo servers get cores - 1 threads by default.
# "overhead" is rt alone with introspection recording on versus off (bench_overhead_rt
# --recording 1|0, shown as on/off in a table of its own; --impl ignored). A program that is not
# built is reported as such. Exit status 1 when a program failed or could not be built.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$repo/tests/bench"
build_dir=""
quick=0
only=""
impls="rt asio"
threads=""
build=1
repeat=1
out=""
report_args=()
all_programs="sleepers spawn yield pingpong join_chain echo echo_uring echo_large echo_large_uring"
all_programs+=" echo_ceiling"
all_programs+=" mpsc_1to1 mpsc_4to1 mpmc_4to4 mutex overhead"

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

# The executable a benchmark name runs (bench_<prog>_<impl>), and the baseline it is compared with.
prog_of() {
    case "$1" in
        mpsc_*) echo mpsc ;;
        mpmc_*) echo mpmc ;;
        echo_*) echo echo ;;
        *) echo "$1" ;;
    esac
}
baseline_of() {
    case "$1" in
        echo_ceiling) echo raw ;;
        sleepers | spawn | yield | pingpong | join_chain | echo | echo_*) echo asio ;;
        *) echo threads ;;
    esac
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --only) only="${2:?--only needs a name}"; shift ;;
        --only=*) only="${1#*=}" ;;
        --impl) impls="${2:?--impl needs rt, base or both}"; shift ;;
        --impl=*) impls="${1#*=}" ;;
        --threads) threads="${2:?--threads needs a number}"; shift ;;
        --threads=*) threads="${1#*=}" ;;
        --repeat) repeat="${2:?--repeat needs a count}"; shift ;;
        --repeat=*) repeat="${1#*=}" ;;
        --no-build) build=0 ;;
        --build-dir) build_dir="${2:?--build-dir needs a directory}"; shift ;;
        --build-dir=*) build_dir="${1#*=}" ;;
        --out) out="${2:?--out needs a file}"; shift ;;
        --out=*) out="${1#*=}" ;;
        --markdown) report_args+=(--markdown) ;;
        -h|--help) usage 0 ;;
        *) echo "run.sh: unknown option $1" >&2; usage 2 ;;
    esac
    shift
done
case "$impls" in
    both | "rt asio") impls="rt base" ;;
    asio | threads) impls="base" ;;
esac
if ! [[ "$repeat" =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: --repeat takes a positive count" >&2
    exit 2
fi
for impl in $impls; do
    if [[ "$impl" != rt && "$impl" != base ]]; then
        echo "run.sh: --impl takes rt, base (asio, threads) or both" >&2
        exit 2
    fi
done
# The implementation a run of program $1 uses for the impl slot $2 (rt or base).
impl_for() { if [[ "$2" == rt ]]; then echo rt; else baseline_of "$1"; fi; }

programs=""
if [[ -n "$only" ]]; then
    for name in ${only//,/ }; do
        [[ " $all_programs " == *" $name "* ]] ||
            { echo "run.sh: unknown benchmark '$name' (have: $all_programs)" >&2; exit 2; }
        programs+="$name "
    done
else
    programs="$all_programs"
fi

# Arguments per program: full size, or --quick.
args_for() {
    if [[ $quick == 1 ]]; then
        case "$1" in
            sleepers) echo "--n 10000" ;;
            spawn) echo "--n 20000 --batch 1000" ;;
            yield) echo "--tasks 100 --k 200" ;;
            pingpong) echo "--m 20000" ;;
            join_chain) echo "--m 20000 --depth 100" ;;
            mpsc_1to1) echo "--n 200000 --producers 1 --capacity 1024" ;;
            mpsc_4to1) echo "--n 200000 --producers 4 --capacity 1024" ;;
            mpmc_4to4) echo "--n 200000 --producers 4 --consumers 4 --capacity 1024" ;;
            mutex) echo "--tasks 4 --n 20000" ;;
            overhead) echo "--n 20000 --m 20000 --msgs 20000 --idle 10000" ;;
            echo | echo_uring | echo_ceiling) echo "--requests 20000" ;;
            echo_large | echo_large_uring) echo "--conns 16 --size 65536 --requests 2000" ;;
        esac
    else
        case "$1" in
            sleepers) echo "--n 1000000" ;;
            spawn) echo "--n 1000000 --batch 1000" ;;
            yield) echo "--tasks 1000 --k 10000" ;;
            pingpong) echo "--m 1000000" ;;
            join_chain) echo "--m 1000000 --depth 1000" ;;
            mpsc_1to1) echo "--n 10000000 --producers 1 --capacity 1024" ;;
            mpsc_4to1) echo "--n 10000000 --producers 4 --capacity 1024" ;;
            mpmc_4to4) echo "--n 10000000 --producers 4 --consumers 4 --capacity 1024" ;;
            mutex) echo "--tasks 4 --n 1000000" ;;
            overhead) echo "--n 1000000 --m 1000000 --msgs 4000000 --idle 100000" ;;
            echo | echo_uring | echo_ceiling) echo "--requests 1000000" ;;
            echo_large | echo_large_uring) echo "--conns 16 --size 65536 --requests 50000" ;;
        esac
    fi
}
if [[ $quick == 1 ]]; then limit=60; else limit=300; fi

# The implementations a program runs as (rt and its baseline, or recording on and off), and the
# executable and extra arguments of each.
impls_for() {
    if [[ "$1" == overhead ]]; then
        echo "on off"
    else
        for impl in $impls; do impl_for "$1" "$impl"; done
    fi
}
target_for() {
    if [[ "$1" == overhead ]]; then echo "bench_overhead_rt"; else echo "bench_$(prog_of "$1")_$2"; fi
}
extra_args_for() {
    if [[ "$1" == overhead ]]; then [[ "$2" == on ]] && echo "--recording 1" || echo "--recording 0"; fi
    if [[ "$1" == *_uring && "$2" == rt ]]; then echo "--uring 1"; fi
}

failed=0
declare -A unbuilt=()
if [[ $build == 1 ]]; then
    targets=()
    for p in $programs; do
        for impl in $(impls_for "$p"); do
            t=$(target_for "$p" "$impl")
            [[ " ${targets[*]} " == *" $t "* ]] || targets+=("$t")
        done
    done
    cd "$repo"
    if [[ -z "$build_dir" ]]; then
        build_dir="$repo/build/bench"
        if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
            echo "== configuring: cmake --preset bench" >&2
            cmake --preset bench >&2
        else
            cmake --preset bench >/dev/null # picks up programs added since
        fi
        build_cmd=(cmake --build --preset bench -j2)
    else
        cmake "$build_dir" >/dev/null # an already configured tree; refresh its program list
        build_cmd=(cmake --build "$build_dir" -j2)
    fi
    # Targets the tree does not define (excluded by CMakeLists) are reported, not built: ninja
    # would refuse the whole command line for one unknown target.
    known=()
    for t in "${targets[@]}"; do
        if ninja -C "$build_dir" -t query "$t" >/dev/null 2>&1; then
            known+=("$t")
        else
            unbuilt[$t]=1
            echo "== $t: not defined in $build_dir (excluded by tests/bench/CMakeLists.txt)" >&2
        fi
    done
    targets=("${known[@]}")
    echo "== building: ${targets[*]}" >&2
    # Keep going past failures (the runtime may not build while the asio programs do); a target
    # that is still out of date afterwards did not build and is reported rather than run stale.
    if [[ ${#targets[@]} -gt 0 ]] && ! "${build_cmd[@]}" --target "${targets[@]}" -- -k 0 >&2; then
        echo "== build failed for some targets; running what is up to date" >&2
        for t in "${targets[@]}"; do
            if ! ninja -C "$build_dir" -n "$t" 2>/dev/null | grep -q "no work to do"; then
                unbuilt[$t]=1
            fi
        done
    fi
fi

[[ -n "$build_dir" ]] || build_dir="$repo/build/bench"
[[ -n "$out" ]] || out="$build_dir/results-$(date +%Y%m%d-%H%M%S).jsonl"
mkdir -p "$(dirname "$out")"
: >"$out"

{
    echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |
        sed 's/^ *//'), $(uname -sr)"
    echo "== mode: $([[ $quick == 1 ]] && echo quick || echo full), results: $out"
    echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work skews the figures)"
} >&2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs one program once and appends its JSON line (or an error line) to $out.
run_one() {
    local p=$1 impl=$2 round=$3
    local target
    target=$(target_for "$p" "$impl")
    local exe="$build_dir/tests/bench/$target"
    [[ -x "$exe" ]] || exe="$build_dir/$target" # --build-dir naming the folder itself
    local args
    read -r -a args <<<"$(args_for "$p") $(extra_args_for "$p" "$impl")"
    [[ -n "$threads" ]] && args+=(--threads "$threads")
    args+=(--timeout "$limit")
    if [[ -n "${unbuilt[$target]:-}" || ! -x "$exe" ]]; then
        echo "{\"bench\":\"$p\",\"impl\":\"$impl\",\"error\":\"not built\"}" >>"$out"
        echo "== $p/$impl: not built" >&2
        failed=1
        return
    fi
    echo "== $p/$impl (run $round/$repeat): $exe ${args[*]}" >&2
    local status=0 line
    timeout -k 5 $((limit + 30)) "$exe" "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
    # One JSON line per program, except overhead, which prints one per workload: keep them all.
    if [[ "$p" == overhead ]]; then
        line=$(grep '^{' "$tmp/stdout" || true)
    else
        line=$(grep '^{' "$tmp/stdout" | tail -n 1 || true)
    fi
    # Variants of one program (echo_uring, echo_large...) are rows of their own: name them so.
    if [[ "$(prog_of "$p")" == echo && "$p" != echo ]]; then
        line=${line/\"bench\":\"echo\"/\"bench\":\"$p\"}
    fi
    if [[ -s "$tmp/stderr" ]]; then sed "s|^|   $p/$impl: |" "$tmp/stderr" | tail -n 20 >&2; fi
    if [[ $status != 0 ]]; then
        failed=1
        if [[ "$line" != *'"error"'* ]]; then
            line="{\"bench\":\"$p\",\"impl\":\"$impl\",\"error\":\"exit status $status\"}"
        fi
    elif [[ -z "$line" ]]; then
        failed=1
        line="{\"bench\":\"$p\",\"impl\":\"$impl\",\"error\":\"no JSON line on stdout\"}"
    fi
    echo "   $line" >&2
    echo "$line" >>"$out"
}

for p in $programs; do
    for ((round = 1; round <= repeat; round++)); do
        for impl in $(impls_for "$p"); do run_one "$p" "$impl" "$round"; done
    done
done

echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo >&2
python3 "$here/report.py" "$out" "${report_args[@]}" || failed=1
exit "$failed"
