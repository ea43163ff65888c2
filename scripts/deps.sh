#!/usr/bin/env bash
# make deps: install the Debian packages and Node test tools Parley needs.
# Does nothing when everything is present; uses sudo when not run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential pkg-config
      libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libhiredis-dev
      libsqlite3-dev libpcre2-dev libsodium-dev libyaml-dev libjansson-dev
      libutf8proc-dev libicu-dev libcmocka-dev
      libpq-dev postgresql libcurl4-openssl-dev libxml2-dev libxml2-utils zlib1g-dev python3-aiosmtpd
      clang libclang-rt-14-dev nginx libnginx-mod-nchan
      redis-server sqlite3 nodejs npm chromium)

missing=()
for p in "${PKGS[@]}"; do
  # nodejs/npm may come from elsewhere (nodesource, nvm): a working binary is enough.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm)    command -v npm  >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node test tools (ws, playwright-core), pinned by tests/package-lock.json.
if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
  echo "deps: npm ci (tests/)"
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi
