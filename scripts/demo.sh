#!/usr/bin/env bash
# The example systems' demos (Examples/README.md), each on the embedded broker with its services as separate
# processes, ending with one machine-readable line and a non-zero exit when an invariant fails:
#   food      (default) the food-delivery platform: a few thousand orders, good and bad, until every one finished.
#             dabba-demo orders=<n> delivered=<n> rejected=<n> cancelled=<n> stuck=<n> dead_lettered=<n>
#               duplicate_effects=<n> disagreeing=<n> kills=<n> faults=<n> p99_ms=<n>
#   payments  UPI payments through a surge, a bank outage (and with --chaos, crashes): the money is checked.
#             dabba-demo system=payments payments=<n> settled=<n> rejected=<n> failed=<n> stuck=<n> money_delta=<n>
#               negative_balances=<n> open_holds=<n> bank_mismatch=<n> duplicate_effects=<n> p99_realtime_ms=<n>
#   tatkal    IRCTC Tatkal: 50,000 requests at 10:00, holds that expire, the waitlist (--chaos: the inventory killed).
#             dabba-demo system=tatkal requests=<n> confirmed=<n> waitlisted=<n> rejected=<n> expired=<n> oversold=<n>
#               seat_conflicts=<n> late_expiries=<n> stuck=<n> duplicate_effects=<n> p99_ms=<n>
#   messaging WhatsApp-style messaging: groups (one of 1,000), offline users, flapping, a New Year burst (--chaos:
#             the mailbox killed mid-flush); every delivery checked against the membership replayed from the log.
#             dabba-demo system=messaging messages=<n> deliveries=<n> missing=<n> duplicate_deliveries=<n>
#               order_violations=<n> leaked=<n> undelivered_online=<n> stuck=<n> duplicate_effects=<n> p99_ms=<n>
# Usage: scripts/demo.sh [BIN_DIR] [demo options, e.g. --orders 500, --chaos]   (default BIN_DIR: the debug build's)
#        DEMO=payments scripts/demo.sh ...   DEMO=tatkal scripts/demo.sh ...   DEMO=messaging scripts/demo.sh ...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN_DIR=${1:-"$(swift build --show-bin-path)"}
shift || true
case "${DEMO:-food}" in
    food)
        demo=food-demo
        executables=(food-demo food-orders food-restaurants food-delivery food-notifications food-analytics)
        ;;
    payments)
        demo=upi-demo
        executables=(upi-demo upi-gateway upi-ledger upi-switch upi-risk upi-analytics dabba)
        ;;
    tatkal)
        demo=tatkal-demo
        executables=(tatkal-demo tatkal-gate tatkal-inventory tatkal-payments tatkal-notifications tatkal-analytics)
        ;;
    messaging)
        demo=chat-demo
        executables=(chat-demo chat-router chat-mailbox chat-receipts chat-push chat-analytics)
        ;;
    *)
        echo "error: DEMO='${DEMO}' is not a demo; choose food, payments, tatkal or messaging" >&2
        exit 2
        ;;
esac
for executable in "${executables[@]}"; do
    [ -x "$BIN_DIR/$executable" ] || { echo "error: $BIN_DIR/$executable is missing; run 'make build' first" >&2; exit 1; }
done
exec "$BIN_DIR/$demo" --catalog Topics "$@"
