#!/usr/bin/env bash
# Contract checks of the repository's own services and catalog, run by `make contracts` (and so by `make test`):
#   1. dabba contract verify: every Dabba service executable of the package (discovered: executables depending on
#      DabbaService; Tests/ fixtures excluded) plus the payments contract fixture, checked against Topics/.
#   2. dabba contract compat --against BASE: every message schema of Topics/ against the same schema at BASE.
# BASE is $COMPAT_BASE, default HEAD~1: on main (CI runs `make test` on a full clone of main) that is the commit
# before the newest, and for a merge commit its first parent, i.e. main before the merge, so the whole merged
# branch is checked. When the default HEAD~1 is missing (a shallow or single-commit clone) the compat step is skipped
# with a warning; an explicit COMPAT_BASE that is missing fails. COMPAT_BASE=none skips the step on purpose.
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
    if [[ -z "${COMPAT_BASE:-}" ]]; then
        # The default base is missing only in a shallow or single-commit clone: there is no earlier catalog to
        # compare with. Say so loudly rather than fail a build that could not have broken compatibility here.
        echo "WARNING: contracts: HEAD~1 does not exist in this clone (shallow or single commit): schema" >&2
        echo "         compatibility NOT checked. Set COMPAT_BASE=<ref> to compare against a revision you have." >&2
        exit 0
    fi
    echo "error: contracts: the compat base '$base' does not exist in this clone (shallow clone or a typo?)." >&2
    echo "       Fetch more history (git fetch --deepen=1), pick another base, or skip the check explicitly" >&2
    echo "       with COMPAT_BASE=none." >&2
    exit 1
fi
echo "contracts: dabba contract compat --against $base"
"$bin/dabba" contract compat --against "$base" --catalog Topics
