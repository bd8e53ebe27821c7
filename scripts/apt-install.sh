#!/usr/bin/env bash
# Installs Debian packages that are missing, idempotently and quietly; nothing when all are there.
#   bash scripts/apt-install.sh [--tag <name>] <package>[=<command>]…
# A package counts as present when dpkg says it is installed or, when `=<command>` is given,
# when that command is found (on PATH or in an sbin directory): a machine with the binary from
# elsewhere is left alone.
#
# - Runs as root, or through `sudo -n`; refuses with a message otherwise.
# - apt-get update only when the package lists cannot serve us (no lists at all, or a missing
#   package has no install candidate); if the install still fails, it updates once and retries.
# - No service starts on install (a machine without an init would otherwise try, and the tests
#   start the daemons themselves): a policy-rc.d that says "no" for the install alone, removed
#   after, unless the machine already has one.
# - Waits up to 5 minutes for another apt to release its lock rather than failing at once.
# Used by .ci/run (nats-server), scripts/e2e-install.sh and bench/setup-peers.sh.
set -Eeuo pipefail

tag=apt-install
if [[ "${1:-}" == "--tag" ]]; then tag=$2; shift 2; fi
log() { printf '[%s] %s\n' "$tag" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$tag" "$*" >&2; exit 1; }
(($# > 0)) || die "usage: apt-install.sh [--tag <name>] <package>[=<command>]…"

has_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  local dir
  for dir in /usr/sbin /usr/local/sbin /sbin; do [[ -x "$dir/$1" ]] && return 0; done
  return 1
}

wanted=() missing=()
for spec in "$@"; do
  pkg=${spec%%=*}
  cmd=; [[ "$spec" == *=* ]] && cmd=${spec#*=}
  wanted+=("$pkg")
  if [[ -n "$cmd" ]] && has_command "$cmd"; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  log "present: ${wanted[*]}"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install Debian packages: ${missing[*]}"
  SUDO=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 -qq)

need_update=0
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then need_update=1; fi
for pkg in "${missing[@]}"; do
  cand=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  if [[ -z "$cand" || "$cand" == "(none)" ]]; then need_update=1; fi
done

policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod +x "$policy"
  own_policy=1
fi
cleanup() { if ((own_policy)); then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

if ((need_update)); then
  log "apt-get update (package lists missing or stale)"
  "${APT[@]}" update </dev/null || die "apt-get update failed"
fi
log "apt-get install ${missing[*]}"
if ! "${APT[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null >/dev/null; then
  ((need_update)) && die "apt-get install failed for: ${missing[*]}"
  log "install failed; retrying after apt-get update"
  "${APT[@]}" update </dev/null || die "apt-get update failed"
  "${APT[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
fi
log "installed: ${missing[*]}"
