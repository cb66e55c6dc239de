#!/usr/bin/env bash
# Installs every Debian package rt's build, tests and benchmarks need. Idempotent: when all are
# present it only checks (no apt-get update), so it is fast on a prepared machine.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ clang-14 clang-format pkg-config
  # runtime
  liburing-dev
  # daemon and console
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  prometheus-cpp-dev libspdlog-dev libfmt-dev libcli11-dev libsqlite3-dev libncurses-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev python3 time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
