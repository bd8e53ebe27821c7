#!/usr/bin/env bash
# The brokers `npm run bench` compares Switchboard against (its `peers` phase): mosquitto and
# nats-server, from the distribution's packages (CI installs nats-server alone, for the tests).
# Installs what is missing and nothing else (scripts/apt-install.sh, which also keeps the
# packages' own services from starting: the bench starts the brokers itself, on 127.0.0.1 with
# its own temp config and data).
set -euo pipefail

bash "$(dirname "$0")/../scripts/apt-install.sh" --tag setup-peers mosquitto=mosquitto nats-server=nats-server
echo "setup-peers: mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), nats-server $(nats-server --version 2>/dev/null | awk '{print $NF}')"
