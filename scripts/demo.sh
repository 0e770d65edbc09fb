#!/usr/bin/env bash
# Set up Verity on a fresh machine and run the main job on the built-in demo corpus:
# fetch the pinned models and the demo data (10,033 Wikipedia lead paragraphs, CC BY-SA),
# build, ingest with a progress bar, then search and check a claim.
set -euo pipefail
cd "$(dirname "$0")/.."

export VERITY_DATA="${VERITY_DATA:-$PWD/verity-data}"
export VERITY_MODELS="${VERITY_MODELS:-$VERITY_DATA/models}"
QUESTION="${1:-When did the Apollo 11 mission land on the Moon?}"
CLAIM="${2:-The Great Wall of China was built to protect against raids by nomadic groups.}"

echo "==> models and demo data"
# The demo writes extractive briefs: the LLM writer's test model (98 MB) is not fetched.
bash scripts/setup-models.sh --no-llm

echo "==> build (release)"
cargo build --release --locked -p verity-cli
VERITY=target/release/verity

DEMO_JSON="$VERITY_DATA/demo/summaries_en-us.json"
DEMO_JSONL="$VERITY_DATA/demo/wikipedia-leads.jsonl"
if [ ! -s "$DEMO_JSONL" ]; then
  python3 scripts/demo_corpus.py "$DEMO_JSON" "$DEMO_JSONL"
fi

echo "==> ingest the demo corpus"
"$VERITY" ingest "$DEMO_JSONL" --attribution "From Wikipedia, the free encyclopedia; text under CC BY-SA 4.0"

echo "==> search: $QUESTION"
"$VERITY" search "$QUESTION" --limit 3

echo "==> check: $CLAIM"
"$VERITY" check "$CLAIM"
