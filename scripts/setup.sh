#!/usr/bin/env bash
# Installs whatever Warden needs that is missing, then builds it. Idempotent:
# a second run on a ready machine only checks and returns. Needs root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
# the gvisor runtime (runsc, ptrace platform); test/integration/runtime-gvisor.test.ts and the conformance-gvisor suite
command -v runsc >/dev/null || need+=(runsc)
command -v cc >/dev/null || need+=(gcc)
command -v strip >/dev/null || need+=(binutils)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v setpriv >/dev/null || need+=(util-linux)
# used by codebase deltas (tar, diff) and by the tests (ps, pkill, git apply)
command -v tar >/dev/null || need+=(tar)
command -v diff >/dev/null || need+=(diffutils)
command -v pkill >/dev/null || need+=(procps)
command -v git >/dev/null || need+=(git)
# better-sqlite3 (the embedded store) is compiled from source by node-gyp when npm installs it
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
# ClamAV's harmless test samples, scanned by test/integration/scan-corpus.test.ts
dpkg -s clamav-testfiles >/dev/null 2>&1 || need+=(clamav-testfiles)
# rich results of code contexts (runCode): matplotlib figures as PNG, pandas tables as HTML
dpkg -s python3-matplotlib >/dev/null 2>&1 || need+=(python3-matplotlib)
dpkg -s python3-pandas >/dev/null 2>&1 || need+=(python3-pandas)
# the dashboard's end-to-end tests drive Debian's Chromium (never a downloaded browser); it is large
[ -x /usr/bin/chromium ] || need+=(chromium)
# the docker runtime (Debian's Docker Engine: dockerd, containerd, runc); the tests start a private dockerd when none runs
command -v dockerd >/dev/null || need+=(docker.io)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing packages: ${need[*]}; run as root (or: apt-get install -y ${need[*]})"
    exit 1
  fi
  log "installing ${need[*]} with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm dependencies: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

log "building the agent and TypeScript packages"
node packages/agent/build.mjs
npx tsc -b
log "building the dashboard"
npm run --silent build -w @warden/dashboard >&2
