#!/usr/bin/env bash
# Installs what building and testing Dabba needs on Debian/Ubuntu, and only what is missing:
#   - the C libraries Package.swift links through pkg-config (librdkafka, SQLite, libpq) and pkg-config itself;
#   - PostgreSQL's server binaries (pg_ctl, initdb) for the Postgres inbox tests;
#   - noida-db (PyPI), the persistent test broker with admin APIs and transactions;
#   - docker-compose (Compose v1), which the tests use to validate docker/compose.yml without an engine;
#   - Chromium, chromedriver and curl, for the browser tests of `dabba ui` (WebDriver, no npm).
# Quiet and quick when everything is present. Run as root or as a user with sudo.
set -euo pipefail

NOIDA_VERSION=0.2.3
# pkg-config module → Debian package.
PKG_CONFIG_MODULES=(rdkafka:librdkafka-dev sqlite3:libsqlite3-dev libpq:libpq-dev)

say() { printf 'deps: %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

if ! command -v swift >/dev/null 2>&1; then
    fail "swift was not found on PATH. Install a Swift 6 toolchain for your distribution (the Linux packages \
from the Swift project, or the swiftly installer), make sure 'swift --version' works, then run this again."
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()
fi

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
for entry in "${PKG_CONFIG_MODULES[@]}"; do
    module=${entry%%:*}
    package=${entry#*:}
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "$module"; then
        missing+=("$package")
    fi
done
postgres_binaries() {
    compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
postgres_binaries || missing+=(postgresql)
# Compose v1 validates docker/compose.yml in the tests (no Docker engine needed for `config`).
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# The console's browser tests drive Debian's headless Chromium through chromedriver (WebDriver calls go through curl).
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1 || missing+=(python3 python3-pip)

if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 \
        || fail "missing ${missing[*]}, and apt-get is not available: install them with your package manager"
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        fail "missing ${missing[*]}: run 'make deps' as root, or install sudo"
    fi
    say "installing ${missing[*]} with apt-get"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/dev/null
fi

installed_noida() {
    python3 - "$NOIDA_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("noida-db") == sys.argv[1] else 1)
PY
}
if ! installed_noida; then
    say "installing noida-db==$NOIDA_VERSION with pip"
    pip_install=(env PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check
        "noida-db==$NOIDA_VERSION")
    if ! "${pip_install[@]}" 2>/dev/null; then
        # Debian 12 and Ubuntu 23.04+ mark the system Python as externally managed (PEP 668). noida-db is one
        # self-contained binary with no Python dependencies, so installing it beside the system packages is safe.
        if [ "$(id -u)" -eq 0 ]; then
            "${pip_install[@]}" --break-system-packages
        else
            "${pip_install[@]}" --user --break-system-packages
        fi
    fi
    installed_noida \
        || fail "noida-db $NOIDA_VERSION did not install: try 'python3 -m pip install noida-db==$NOIDA_VERSION'"
fi
