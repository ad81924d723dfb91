#!/usr/bin/env bash
# Checks the systemd units as the security team will: `systemd-analyze
# verify` must print nothing, and `systemd-analyze security` must rate the
# service's exposure at 1.0 or lower. Needs release binaries (it stages an
# install under a temporary root so the ExecStart= paths exist there).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXPOSURE="${MAX_EXPOSURE:-1.0}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

DESTDIR="$stage" systemd/install.sh >/dev/null
# The units depend on the standard targets (sysinit.target and so on).
mkdir -p "$stage/usr/lib/systemd"
cp -r /lib/systemd/system "$stage/usr/lib/systemd/"

echo "== systemd-analyze verify --man=no camd.service camd.socket camd-api.service camd-api.socket"
out=$(systemd-analyze verify --man=no --root="$stage" \
    /etc/systemd/system/camd.service /etc/systemd/system/camd.socket \
    /etc/systemd/system/camd-api.service /etc/systemd/system/camd-api.socket 2>&1) || {
    echo "$out"; echo "check-units: verify failed" >&2; exit 1; }
if [[ -n "$out" ]]; then
    echo "$out"; echo "check-units: verify printed warnings" >&2; exit 1
fi
echo "clean"

for unit in camd.service camd-api.service; do
    echo "== systemd-analyze security --offline=true $unit"
    report=$(systemd-analyze security --offline=true "systemd/$unit" 2>&1)
    exposure=$(sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p" <<<"$report")
    if [[ -z "$exposure" ]]; then
        echo "$report"; echo "check-units: no exposure level in the report for $unit" >&2; exit 1
    fi
    grep '✗' <<<"$report" || true
    echo "$unit: exposure $exposure (at most $MAX_EXPOSURE)"
    if ! awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
        echo "check-units: $unit exposure $exposure is above $MAX_EXPOSURE" >&2; exit 1
    fi
done

# Cluster mode's drop-in, applied to camd.service.
echo "== systemd-analyze verify --man=no camd.service with the cluster drop-in"
mkdir -p "$stage/etc/systemd/system/camd.service.d"
cp systemd/cluster/camd-cluster.conf "$stage/etc/systemd/system/camd.service.d/cluster.conf"
out=$(systemd-analyze verify --man=no --root="$stage" /etc/systemd/system/camd.service 2>&1) || {
    echo "$out"; echo "check-units: verify failed with the cluster drop-in" >&2; exit 1; }
if [[ -n "$out" ]]; then
    echo "$out"; echo "check-units: verify printed warnings with the cluster drop-in" >&2; exit 1
fi
echo "clean"
