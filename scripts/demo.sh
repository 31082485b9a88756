#!/usr/bin/env bash
# The food-delivery demo (Examples/FoodDelivery): the embedded broker with the catalog's topics, the five services
# as separate processes, a few thousand orders (good and bad), progress until every order has finished, a summary,
# graceful shutdown. The last line is machine-readable:
#   dabba-demo orders=<n> delivered=<n> rejected=<n> cancelled=<n> stuck=<n> dead_lettered=<n> duplicate_effects=<n>
#     disagreeing=<n> kills=<n> faults=<n> p99_ms=<n>
# Usage: scripts/demo.sh [BIN_DIR] [food-demo options, e.g. --orders 500, --chaos]   (default BIN_DIR: the debug build's)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN_DIR=${1:-"$(swift build --show-bin-path)"}
shift || true
DEMO="$BIN_DIR/food-demo"
for executable in food-demo food-orders food-restaurants food-delivery food-notifications food-analytics; do
    [ -x "$BIN_DIR/$executable" ] || { echo "error: $BIN_DIR/$executable is missing; run 'make build' first" >&2; exit 1; }
done
exec "$DEMO" --catalog Topics "$@"
