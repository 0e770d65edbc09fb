#!/usr/bin/env bash
# Run every check Verity has: formatting, lints, and all tests with the real models.
# Installs the pinned models first (idempotent; cached after the first run).
set -euo pipefail
cd "$(dirname "$0")/.."

export VERITY_DATA="${VERITY_DATA:-$PWD/verity-data}"
export VERITY_MODELS="${VERITY_MODELS:-$VERITY_DATA/models}"

echo "==> models (pinned, sha256-checked)"
bash scripts/setup-models.sh

echo "==> llama.cpp server for the LLM writer's real-server test (built once; the wheel is kept in the data dir)"
llm_started=$(date +%s)
bash scripts/setup-llm.sh
echo "    ready in $(($(date +%s) - llm_started)) s"

# The stance model's tests read these; point them at the installed copies.
export VERITY_STANCE_MODEL="${VERITY_STANCE_MODEL:-$VERITY_MODELS/verity-stance}"
export VERITY_STANCE_TOKENIZER="${VERITY_STANCE_TOKENIZER:-$VERITY_MODELS/all-minilm-l6-v2/tokenizer.json}"

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> PostgreSQL for the store tests (a throwaway cluster, stopped on exit)"
pg_started=$(date +%s)
# shellcheck source=scripts/pg-cluster.sh
source scripts/pg-cluster.sh
echo "    ready in $(($(date +%s) - pg_started)) s: VERITY_TEST_PG=$VERITY_TEST_PG"

echo "==> cargo test"
# Model-backed, PostgreSQL and real-LLM-server tests must run here, not skip
# (VERITY_REQUIRE_PG=1 is set).
VERITY_REQUIRE_MODELS=1 VERITY_REQUIRE_LLM=1 cargo test --workspace --locked --no-fail-fast

echo "==> browser test (headless Chromium; screenshots in target/browser-artifacts/)"
bash scripts/browser-test.sh
