#!/usr/bin/env bash
# Browser test of `verity serve`: headless Chromium asks a question on the demo corpus
# (the Wikipedia lead paragraphs installed by scripts/setup-models.sh; the fictional story
# corpus when those are not installed), waits for the brief, clicks a citation and checks
# the highlighted passage. Screenshots go to target/browser-artifacts/ (brief.png,
# citation.png, print.png, recheck.png).
#
#   bash scripts/browser-test.sh            # BM25 + lexical judge (fast, no models)
#   VERITY_BROWSER_MODELS=1 bash scripts/browser-test.sh   # with the installed models
#   VERITY_BROWSER_CORPUS=story bash scripts/browser-test.sh  # the fictional story corpus
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${VERITY_BROWSER_OUT:-target/browser-artifacts}"
mkdir -p "$OUT"

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! python3 -c "import websockets" 2>/dev/null; then
  echo "==> installing the websockets package"
  python3 -m pip install --quiet "websockets==17.4"
fi

echo "==> building"
cargo build --quiet -p verity-cli
VERITY=target/debug/verity

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

MODELS_FLAG="--no-models"
[ "${VERITY_BROWSER_MODELS:-0}" = 1 ] && MODELS_FLAG=""

VERITY_DATA="${VERITY_DATA:-$PWD/verity-data}"
DEMO_JSON="$VERITY_DATA/demo/summaries_en-us.json"
CORPUS="${VERITY_BROWSER_CORPUS:-demo}"
if [ "$CORPUS" = demo ] && [ ! -s "$DEMO_JSON" ]; then
  echo "==> $DEMO_JSON is not installed (bash scripts/setup-models.sh); using the story corpus"
  CORPUS=story
fi
if [ "$CORPUS" = demo ]; then
  python3 scripts/demo_corpus.py "$DEMO_JSON" "$WORK/wikipedia-leads.jsonl" >/dev/null
  SOURCES="$WORK/wikipedia-leads.jsonl"
  set -- --question "When did the Apollo 11 mission land on the Moon?" "$@"
else
  SOURCES=tests/fixtures/story
fi
echo "==> ingesting the $CORPUS corpus"
"$VERITY" --data "$WORK/data" $MODELS_FLAG --quiet ingest "$SOURCES" >/dev/null

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$VERITY" --data "$WORK/data" $MODELS_FLAG serve --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log"; echo "the server did not start" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null

echo "==> driving the page in headless Chromium"
if ! python3 scripts/browser_test.py --base "http://127.0.0.1:$PORT" --out "$OUT" "$@"; then
  echo "--- server log ---"; tail -n 40 "$WORK/server.log"
  exit 1
fi
