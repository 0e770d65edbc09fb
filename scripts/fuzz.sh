#!/usr/bin/env bash
# Run the coverage-guided fuzz targets in fuzz/ (libFuzzer through cargo-fuzz, nightly
# Rust) for a fixed budget each:
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s; every target)
#
# Seeds: scripts/hostile-seeds.py writes the hostile files of issue 14, and fuzz/seeds.py
# turns them (and request bodies and date forms) into one seed folder per target, under
# target/fuzz-seeds/. The corpus each target grows stays in target/fuzz-corpus/<target>/
# between runs; an input that breaks the contract lands in fuzz/artifacts/<target>/
# (replay it: `cargo +nightly fuzz run <target> <file>`). Each run's output, with
# libFuzzer's final stats, goes to target/fuzz-logs/<target>.log.
#
# Stable CI does not run this: it runs the proptest harnesses of the same parsers
# (crates/verity-ingest/tests/fuzz_parsers.rs, crates/verity-server/tests/fuzz_api.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.1
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read_document parse_date api_request)

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "error: cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
python3 scripts/hostile-seeds.py target/hostile-seeds >/dev/null
python3 fuzz/seeds.py target/hostile-seeds target/fuzz-seeds
mkdir -p target/fuzz-logs
for t in "${targets[@]}"; do
  mkdir -p "target/fuzz-corpus/$t"
  extra=()
  # The in-process server keeps its library, caches and worker tasks alive from one input
  # to the next, which LeakSanitizer would rescan (and report) after every input.
  [ "$t" = api_request ] && extra=(-detect_leaks=0)
  echo "== $t: ${secs} s"
  # -max_len: seeds longer than 64 KiB are read truncated (the bombs are covered by the
  # regression tests instead); -timeout: one input that takes 30 s is a hang.
  cargo +nightly fuzz run --fuzz-dir fuzz "$t" "target/fuzz-corpus/$t" "target/fuzz-seeds/$t" -- \
    -max_total_time="$secs" -max_len=65536 -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 "${extra[@]}" >"target/fuzz-logs/$t.log" 2>&1 || {
    echo "$t: the fuzzer stopped with a finding; see target/fuzz-logs/$t.log and fuzz/artifacts/$t/" >&2
    tail -40 "target/fuzz-logs/$t.log" >&2
    exit 1
  }
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|cov: .*DONE' \
    "target/fuzz-logs/$t.log" || true
done
