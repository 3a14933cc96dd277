#!/usr/bin/env bash
# Fuzz every target (or the ones named) for a fixed time each, under libFuzzer with
# coverage instrumentation, on the stable toolchain.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      default: 60 seconds, every target
#
# Seeds come from fuzz/corpus/<target>/; inputs the fuzzer finds interesting are kept in
# target/fuzz/corpus/<target>/ (not committed). A crash is written to
# target/fuzz/crashes/<target>/ and the script exits 1: minimise it, fix the bug, and
# keep the input in fuzz/regressions/<target>/ so `cargo test -p eka-fuzz` replays it
# from then on.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls corpus)
fi
host=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="$root/target/fuzz/build"
# SanitizerCoverage through stable flags: what libFuzzer needs to be coverage-guided.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares"
# The drivers use the main workspace's dependency versions.
cp "$root/Cargo.lock" libfuzzer/Cargo.lock
cargo build --release --manifest-path libfuzzer/Cargo.toml --target "$host"
binary="$CARGO_TARGET_DIR/$host/release/eka-fuzz-target"
failed=0
for target in "${targets[@]}"; do
  corpus="$root/target/fuzz/corpus/$target"
  crashes="$root/target/fuzz/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  echo "fuzzing $target for ${seconds}s"
  if ! EKA_FUZZ_TARGET="$target" "$binary" "$corpus" "corpus/$target" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$crashes/" -print_final_stats=1 2> "$root/target/fuzz/$target.log"; then
    echo "CRASH in $target: see $crashes/ and $root/target/fuzz/$target.log"
    failed=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$root/target/fuzz/$target.log" | sed "s/^/  /"
done
rm -f libfuzzer/Cargo.lock
exit $failed
