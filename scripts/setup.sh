#!/usr/bin/env bash
# Installs every Debian package streamstate needs to build, test and run its demo, and the
# pinned s3rver (the S3-compatible server of the S3 storage tests) into tools/s3rver.
# A no-op when all of them are present. Runs apt-get as root (or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ make cmake ninja-build ccache pkg-config git ca-certificates
  librocksdb-dev liblz4-dev libzstd-dev libsnappy-dev libxxhash-dev libabsl-dev
  libyaml-cpp-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libhiredis-dev libcurl4-openssl-dev libssl-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done
# Node.js and npm run s3rver. A machine may already have them from elsewhere (a nodejs package
# that bundles npm conflicts with Debian's npm), so only missing commands ask for Debian's.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

# s3rver at the version pinned by tools/s3rver/package-lock.json, reinstalled when the lock file
# changed since the last install (npm ci writes node_modules/.package-lock.json).
install_s3rver() {
  local dir=tools/s3rver
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ -f "$dir/node_modules/s3rver/bin/s3rver.js" ] &&
     [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    return 0
  fi
  echo "setup: installing s3rver into $dir (npm ci)"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    if [ "${STREAMSTATE_S3_TESTS_OPTIONAL:-0}" = 1 ]; then
      echo "setup: warning: npm could not install s3rver (see above); the S3 storage tests will be skipped" >&2
      return 0
    fi
    echo "setup: npm could not install s3rver from the npm registry (see the error above); the S3 storage" \
         "tests need it. Fix the network or npm's certificate settings, or set STREAMSTATE_S3_TESTS_OPTIONAL=1" \
         "to skip those tests." >&2
    return 1
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  install_s3rver
  exit 0
fi

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
install_s3rver
echo "setup: done"
