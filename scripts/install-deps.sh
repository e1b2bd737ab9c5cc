#!/usr/bin/env bash
# Installs the Debian 12 packages Fulcrum needs to build, test and benchmark.
# Does nothing when everything is already present; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build ccache pkg-config clang libclang-rt-14-dev clang-format
  libasio-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libc-ares-dev libhttp-parser-dev libnghttp2-dev
  curl haproxy nginx wrk procps iproute2 iptables python3 etcd-server etcd-client dnsmasq-base
  chromium systemd
  help2man lintian
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
# HAProxy and nginx are benchmark peers, not services: keep their packages from starting them
# (on port 80) during the install, through a policy-rc.d that refuses every start.
policy=/usr/sbin/policy-rc.d
added_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  added_policy=true
fi
status=0
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" || status=$?
if $added_policy; then $sudo rm -f "$policy"; fi
exit $status
