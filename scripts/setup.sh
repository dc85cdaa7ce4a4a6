#!/usr/bin/env bash
# Installs every Debian package streamstate needs to build, test and run its demo.
# A no-op when all of them are present. Runs apt-get as root (or through sudo).
set -euo pipefail

packages=(
  g++ make cmake ninja-build ccache pkg-config git ca-certificates
  librocksdb-dev liblz4-dev libzstd-dev libsnappy-dev libxxhash-dev libabsl-dev
  libyaml-cpp-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libhiredis-dev libcurl4-openssl-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  as_root=(sudo)
fi
# Package installs must not start services (redis-server): tests start their own servers.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod +x "$policy"
  added_policy=1
fi
cleanup() { [ "$added_policy" = 1 ] && "${as_root[@]}" rm -f "$policy"; return 0; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
