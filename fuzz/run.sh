#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on stable Rust
# (`--sanitizer none`; set SANITIZER=address with RUSTC_BOOTSTRAP=1 for ASan),
# starting from the committed seed corpus (fuzz/corpus/<target>, read only;
# new inputs go to a temporary folder). Fails on any crash, panic or hang
# (an input running over 10 s); prints each target's run count.
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-60}"
SANITIZER="${SANITIZER:-none}"
# libfuzzer-sys builds libFuzzer from C++.
if ! command -v c++ >/dev/null 2>&1; then
    echo "== installing g++ from Debian's packages (libFuzzer is C++)"
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends g++
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo fuzz build --sanitizer "$SANITIZER" -O

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
summary=()
for target in $(cargo fuzz list); do
    mkdir -p "$work/$target"
    echo "== fuzzing $target for ${SECONDS_EACH}s"
    log="$work/$target.log"
    if ! cargo fuzz run --sanitizer "$SANITIZER" -O "$target" "$work/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $target FAILED; the input is under $work (kept)" >&2
        trap - EXIT
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    summary+=("$target: ${runs:-?} runs in ${SECONDS_EACH}s, $cov, 0 crashes, 0 hangs")
done
echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
