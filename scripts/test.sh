#!/usr/bin/env bash
# Runs every test of ComputeBroker: unit, property, storage (SQLite files and a real PostgreSQL
# server the tests start themselves), HTTP API on loopback, crash and browser tests.
# Installs what the tests need when it is missing and we are root (Debian: chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

need_chromium=false
if grep -rqs "Microsoft.Playwright" tests/*/*.csproj 2>/dev/null; then need_chromium=true; fi
if $need_chromium && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing chromium (Debian package) for the browser tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: run 'sudo apt-get install -y chromium' first" >&2
    exit 1
  fi
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${BROKER_TEST_POSTGRES:-}" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "installing postgresql (Debian package) for the storage tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
fi

# The browser tests drive Debian's chromium; Playwright must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test ComputeBroker.slnx -c Release --nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One closing line over all test projects: "N passed, N failed, N skipped".
awk '
  /^(Passed|Failed)!/ {
    for (i = 1; i <= NF; i++) {
      gsub(",", "", $(i+1));
      if ($i == "Failed:")  failed  += $(i+1);
      if ($i == "Passed:")  passed  += $(i+1);
      if ($i == "Skipped:") skipped += $(i+1);
    }
  }
  END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$log"
exit "$status"
