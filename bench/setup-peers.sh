#!/usr/bin/env bash
# The brokers `npm run bench` compares Switchboard against (its `peers` phase): mosquitto and
# nats-server, from the distribution's packages. For the bench only, never for CI or the tests.
# Installs what is missing and nothing else; refreshes the package lists only when there are
# none. The bench starts the brokers itself (127.0.0.1, its own temp config and data), so the
# packages' own services are kept from starting during the install.
set -euo pipefail

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-peers: mosquitto and nats-server are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-peers: installing ${missing[*]} needs root (apt-get)" >&2
  exit 1
fi

if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  echo "setup-peers: no package lists yet: apt-get update"
  apt-get -o DPkg::Lock::Timeout=300 update -qq
fi

# No service starts on install (a machine without an init would otherwise try): a policy that
# says "no" for the install alone, removed after, unless the machine already has one.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "setup-peers: apt-get install ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-peers: mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), nats-server $(nats-server --version 2>/dev/null | awk '{print $NF}')"
