#!/usr/bin/env bash
# The example systems' demos (Examples/README.md), each on the embedded broker with its services as separate
# processes, ending with one machine-readable line and a non-zero exit when an invariant fails:
#   all       (default) every system below, one after another, at a size that fits a few minutes on two cores,
#             then one line per system and an overall verdict:
#             dabba-demo system=all systems=<n> passed=<n> failed=<n> seconds=<n>
#   food      the food-delivery platform: a few thousand orders, good and bad, until every one finished.
#             dabba-demo orders=<n> delivered=<n> rejected=<n> cancelled=<n> stuck=<n> dead_lettered=<n>
#               duplicate_effects=<n> disagreeing=<n> kills=<n> faults=<n> p99_ms=<n> orders_per_s=<n>
#   payments  UPI payments through a surge, a bank outage (and with --chaos, crashes): the money is checked.
#             --rate 0 --payments N: one flat-out burst (no surge, no outage) to measure the system's throughput.
#             dabba-demo system=payments payments=<n> settled=<n> rejected=<n> failed=<n> stuck=<n> money_delta=<n>
#               negative_balances=<n> open_holds=<n> bank_mismatch=<n> duplicate_effects=<n> p99_realtime_ms=<n>
#               p99_end_to_end_ms=<n> payments_per_s=<n>
#   tatkal    IRCTC Tatkal: 50,000 requests at 10:00, holds that expire, the waitlist (--chaos: the inventory killed).
#             dabba-demo system=tatkal requests=<n> confirmed=<n> waitlisted=<n> rejected=<n> expired=<n> oversold=<n>
#               seat_conflicts=<n> late_expiries=<n> stuck=<n> duplicate_effects=<n> p99_ms=<n> bookings_per_s=<n>
#   messaging WhatsApp-style messaging: groups (one of 1,000), offline users, flapping, a New Year burst (--chaos:
#             the mailbox killed mid-flush); every delivery checked against the membership replayed from the log.
#             dabba-demo system=messaging messages=<n> deliveries=<n> missing=<n> duplicate_deliveries=<n>
#               order_violations=<n> leaked=<n> undelivered_online=<n> stuck=<n> duplicate_effects=<n> p99_ms=<n>
#               messages_per_s=<n> deliveries_per_s=<n>
#   rides     Ola-style rides: 1,000 drivers reporting every 2 s, rush hour in BKC, surge by window (--chaos:
#             dispatch and surge killed); matches, surge and fares checked against the log.
#             --rate 0 --requests N: every phase flat out to measure the system's throughput.
#             dabba-demo system=rides requests=<n> matched=<n> expired=<n> completed=<n> stuck=<n>
#               double_assignments=<n> surge_mismatch=<n> duplicate_effects=<n> p99_match_ms=<n> rides_per_s=<n>
#   traffic   Mumbai traffic: citizens' and cameras' reports, zone status by the last ten within the hour, alerts
#             (--chaos: the status service killed); every change and alert checked against the log.
#             dabba-demo system=traffic reports=<n> changes=<n> alerts=<n> status_mismatch=<n> missing_alerts=<n>
#               duplicate_alerts=<n> duplicate_effects=<n> p99_ms=<n> reports_per_s=<n>
# With DEMO_SIZE=flat-out (what `make bench-systems` runs on a release build) every system sends its load as fast
# as the broker acknowledges it (--rate 0) at a size that lasts tens of seconds, its invariants checked as always, and
# the run ends with one line of whole-system figures, each system's throughput and latency keys prefixed by its name:
#             dabba-bench-systems food.orders_per_s=<n> food.p99_ms=<n> payments.payments_per_s=<n> ... failed=<n>
# Usage: scripts/demo.sh [BIN_DIR] [demo options]   (default BIN_DIR: the debug build's)
#        DEMO=rides scripts/demo.sh ... runs one system at full size with its own options (--orders 500, --chaos);
#        with DEMO=all the options go to every system's demo, so only the common ones make sense (--chaos, --keep).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN_DIR=${1:-"$(swift build --show-bin-path)"}
shift || true

# The demo executable and its services, per system.
executables_of() {
    case "$1" in
        food) echo food-demo food-orders food-restaurants food-delivery food-notifications food-analytics ;;
        payments) echo upi-demo upi-gateway upi-ledger upi-switch upi-risk upi-analytics dabba ;;
        tatkal) echo tatkal-demo tatkal-gate tatkal-inventory tatkal-payments tatkal-notifications tatkal-analytics ;;
        messaging) echo chat-demo chat-router chat-mailbox chat-receipts chat-push chat-analytics ;;
        rides) echo rides-demo rides-dispatch rides-surge rides-trips rides-notifications rides-analytics ;;
        traffic) echo traffic-demo traffic-status traffic-alerts ;;
        *) return 1 ;;
    esac
}

# The size of each system in the all-systems run.
small_options_of() {
    case "$1" in
        food) echo --orders 1000 ;;
        payments) echo --base-seconds 8 --surge-seconds 2 --degraded-seconds 5 --down-seconds 10 --recovery-seconds 5 ;;
        tatkal) echo --requests 10000 ;;
        messaging) echo --messages 600 --burst-messages 300 --large-group-messages 2 ;;
        rides) echo --base-seconds 12 --rush-seconds 12 ;;
        traffic) echo --reports-per-zone 150 ;;
    esac
}

# The size of each system flat out (DEMO_SIZE=flat-out): as fast as acknowledged, for tens of seconds in release.
flat_out_options_of() {
    case "$1" in
        food) echo --rate 0 --orders 4000 ;;
        payments) echo --rate 0 --payments 5000 ;;
        tatkal) echo --rate 0 --requests 5000 --outage-seconds 2 ;;
        messaging) echo --rate 0 --messages 4000 --burst-messages 1500 ;;
        rides) echo --rate 0 --requests 6000 ;;
        traffic) echo --rate 0 --reports-per-zone 3000 ;;
    esac
}

size_options_of() {
    case "${DEMO_SIZE:-small}" in
        small) small_options_of "$1" ;;
        flat-out) flat_out_options_of "$1" ;;
        *) echo "error: DEMO_SIZE='${DEMO_SIZE}' is not a size; choose small or flat-out" >&2; return 2 ;;
    esac
}

check_built() {
    local executable
    for executable in $(executables_of "$1"); do
        [ -x "$BIN_DIR/$executable" ] || { echo "error: $BIN_DIR/$executable is missing; run 'make build' first" >&2; exit 1; }
    done
}

systems=(food payments tatkal messaging rides traffic)
demo=${DEMO:-all}
size_options_of food >/dev/null
if [ "$demo" != all ]; then
    executables_of "$demo" >/dev/null || {
        echo "error: DEMO='$demo' is not a demo; choose all, ${systems[*]}" >&2
        exit 2
    }
    check_built "$demo"
    read -r executable _ <<<"$(executables_of "$demo")"
    # At the default size a single system runs at full size; flat out, at the flat-out size (the options given win).
    # shellcheck disable=SC2046 # the options are words on purpose
    [ "${DEMO_SIZE:-small}" = flat-out ] && set -- $(flat_out_options_of "$demo") "$@"
    exec "$BIN_DIR/$executable" --catalog Topics "$@"
fi

for system in "${systems[@]}"; do check_built "$system"; done
started=$(date +%s)
lines=()
figures=()
passed=0
failed=0
for system in "${systems[@]}"; do
    read -r executable _ <<<"$(executables_of "$system")"
    echo
    echo "################ $system ($executable $(size_options_of "$system") $*)"
    log=$(mktemp)
    # shellcheck disable=SC2046 # the options are words on purpose
    if "$BIN_DIR/$executable" --catalog Topics $(size_options_of "$system") "$@" 2>&1 | tee "$log"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
    line=$(grep -E '^dabba-demo ' "$log" | tail -1 || true)
    lines+=("${line:-dabba-demo system=$system (no summary line: see above)}")
    # The system's throughput (…_per_s) and latency (p50…/p99…) keys, named after the system.
    for field in $line; do
        case "$field" in
            *_per_s=* | p50*=* | p99*=*) figures+=("$system.$field") ;;
        esac
    done
    rm -f "$log"
done
echo
echo "################ all systems"
for line in "${lines[@]}"; do echo "$line"; done
echo "dabba-demo system=all systems=${#systems[@]} passed=$passed failed=$failed seconds=$(( $(date +%s) - started ))"
if [ "${DEMO_SIZE:-small}" = flat-out ]; then
    echo "dabba-bench-systems ${figures[*]} failed=$failed"
fi
[ "$failed" -eq 0 ]
