#!/usr/bin/env bash
# Contract checks of the repository's own services and catalog, run by `make contracts` (and so by `make test`):
#   1. dabba contract verify: every Dabba service executable of the package (discovered: executables depending on
#      DabbaService; Tests/ fixtures excluded) plus the payments contract fixture, checked against Topics/.
#   2. dabba contract compat --against BASE: every message schema of Topics/ against the same schema at BASE.
# BASE is $COMPAT_BASE, default HEAD~1: on main (CI runs `make test` on a full clone of main) that is the commit
# before the newest, and for a merge commit its first parent, i.e. main before the merge, so the whole merged
# branch is checked. A missing BASE (a shallow or single-commit clone) fails with a message; set COMPAT_BASE=none
# to skip the compat step on purpose.
# Usage: scripts/contracts.sh BIN_DIR   (the directory of the built dabba and service executables)
set -euo pipefail

bin="${1:?usage: scripts/contracts.sh BIN_DIR}"
base="${COMPAT_BASE:-HEAD~1}"

echo "contracts: dabba contract verify (Topics/ against the package's services)"
"$bin/dabba" contract verify --bin-path "$bin" --include dabba-contract-fixture --catalog Topics

if [[ "$base" == "none" ]]; then
    echo "contracts: COMPAT_BASE=none: schema compatibility NOT checked"
    exit 0
fi
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    echo "error: contracts: the compat base '$base' does not exist in this clone (shallow or single commit?)." >&2
    echo "       Fetch more history (git fetch --deepen=1), pick a base with COMPAT_BASE=<ref>, or skip the" >&2
    echo "       check explicitly with COMPAT_BASE=none." >&2
    exit 1
fi
echo "contracts: dabba contract compat --against $base"
"$bin/dabba" contract compat --against "$base" --catalog Topics
