#!/usr/bin/env bash
# Runs the runtime-core benchmarks, rt against Boost.Asio C++20 coroutines, and prints one table.
#
#   tests/bench/run.sh [--quick] [--only NAME[,NAME...]] [--impl rt|asio|both] [--threads N]
#                      [--repeat R] [--no-build] [--build-dir DIR] [--out FILE] [--markdown]
#
# Without --build-dir, builds the "bench" preset (configuring it when build/bench does not exist
# yet); --build-dir names an already configured tree (or the folder holding the bench_* programs).
# Each program runs for rt and then for asio, one at a time (never concurrently: they would steal
# each other's cores), each under `timeout` and its own watchdog. Every program prints one JSON
# line; the lines go to FILE (default <build dir>/results-<time>.jsonl) and tests/bench/report.py
# turns them into the table (the median when --repeat R runs each pair R times, rt and asio
# alternating). --quick uses small sizes for a smoke run (seconds). Programs: sleepers, spawn,
# yield, pingpong, echo (TCP echo, 64 connections of 64-byte requests; run bench_echo_rt --uring 1
# by hand for the io_uring backend). Exit status 1 when a program failed or could not be built.
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
all_programs="sleepers spawn yield pingpong echo"

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=1 ;;
        --only) only="${2:?--only needs a name}"; shift ;;
        --only=*) only="${1#*=}" ;;
        --impl) impls="${2:?--impl needs rt, asio or both}"; shift ;;
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
[[ "$impls" == both ]] && impls="rt asio"
if ! [[ "$repeat" =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: --repeat takes a positive count" >&2
    exit 2
fi
for impl in $impls; do
    if [[ "$impl" != rt && "$impl" != asio ]]; then
        echo "run.sh: --impl takes rt, asio or both" >&2
        exit 2
    fi
done

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
            pingpong) echo "--m 20000 --depth 100" ;;
            echo) echo "--requests 20000" ;;
        esac
    else
        case "$1" in
            sleepers) echo "--n 1000000" ;;
            spawn) echo "--n 1000000 --batch 1000" ;;
            yield) echo "--tasks 1000 --k 10000" ;;
            pingpong) echo "--m 1000000 --depth 1000" ;;
            echo) echo "--requests 1000000" ;;
        esac
    fi
}
if [[ $quick == 1 ]]; then limit=60; else limit=300; fi

failed=0
declare -A unbuilt=()
if [[ $build == 1 ]]; then
    targets=()
    for p in $programs; do for impl in $impls; do targets+=("bench_${p}_${impl}"); done; done
    cd "$repo"
    if [[ -z "$build_dir" ]]; then
        build_dir="$repo/build/bench"
        if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
            echo "== configuring: cmake --preset bench" >&2
            cmake --preset bench >&2
        fi
        build_cmd=(cmake --build --preset bench -j2)
    else
        build_cmd=(cmake --build "$build_dir" -j2) # an already configured tree
    fi
    echo "== building: ${targets[*]}" >&2
    # Keep going past failures (the runtime may not build while the asio programs do); a target
    # that is still out of date afterwards did not build and is reported rather than run stale.
    if ! "${build_cmd[@]}" --target "${targets[@]}" -- -k 0 >&2; then
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
    local exe="$build_dir/tests/bench/bench_${p}_${impl}"
    [[ -x "$exe" ]] || exe="$build_dir/bench_${p}_${impl}" # --build-dir naming the folder itself
    local args
    read -r -a args <<<"$(args_for "$p")"
    [[ -n "$threads" ]] && args+=(--threads "$threads")
    args+=(--timeout "$limit")
    if [[ -n "${unbuilt[bench_${p}_${impl}]:-}" || ! -x "$exe" ]]; then
        echo "{\"bench\":\"$p\",\"impl\":\"$impl\",\"error\":\"not built\"}" >>"$out"
        echo "== $p/$impl: not built" >&2
        failed=1
        return
    fi
    echo "== $p/$impl (run $round/$repeat): $exe ${args[*]}" >&2
    local status=0 line
    timeout -k 5 $((limit + 30)) "$exe" "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
    line=$(grep '^{' "$tmp/stdout" | tail -n 1 || true)
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
        for impl in $impls; do run_one "$p" "$impl" "$round"; done
    done
done

echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo >&2
python3 "$here/report.py" "$out" "${report_args[@]}" || failed=1
exit "$failed"
