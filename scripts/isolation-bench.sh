#!/usr/bin/env bash
# Cost of parse isolation, in one run: the demo corpus written as one Markdown file per
# lead, ingested with --parse-isolation off, pdf (the default) and all, two rounds.
# Usage: bash scripts/isolation-bench.sh [verity-binary] [demo.jsonl]
set -euo pipefail
V="${1:-target/release/verity}"
JSONL="${2:-verity-data/demo/wikipedia-leads.jsonl}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 - "$JSONL" "$WORK/md" <<'PY'
import json, os, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
for i, line in enumerate(open(src, encoding="utf-8")):
    d = json.loads(line)
    with open(f"{out}/{i:05d}.md", "w", encoding="utf-8") as f:
        f.write(f"# {d.get('title', '')}\n\n{d['text']}\n")
PY
for round in 1 2; do
  for mode in off pdf all; do
    rm -rf "$WORK/lib"
    "$V" --data "$WORK/lib" --no-models -q ingest "$WORK/md" --no-embed \
      --parse-isolation "$mode" --json > "$WORK/r.json"
    python3 -c "import json,sys;r=json.load(open(sys.argv[1]));print(f\"round $round {sys.argv[2]:>3}: {r['added']} added, {r['bytes']/1e6/r['seconds']:.3f} MB/s, read {r['timings']['read']:.2f} s\")" "$WORK/r.json" "$mode"
  done
done
