#!/usr/bin/env bash
# Installs the Debian 12 packages Fulcrum needs to build, test and benchmark.
# Does nothing when everything is already present; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build ccache pkg-config clang libclang-rt-14-dev clang-format
  libasio-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl haproxy nginx wrk procps iproute2 python3
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# Peers installed for benchmarks must not start as system services on port 80.
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
