#!/usr/bin/env python3
"""Load test: `verity serve` answering searches while an ingest runs through the API.

Starts `verity serve` on a fresh library, seeds it with a small fictional corpus, then,
for --seconds, runs --clients search clients in parallel while one more client uploads
--passages short fictional documents (one passage each) through `POST /api/sources`, in
uploads of --per-upload documents (by default all 50,000 in one upload of about 17 MB,
under the server's 25 MiB request cap: one ingest that runs through the whole window;
`--per-upload 1000` puts several ingest commits inside the window instead). Prints
search latency percentiles, error counts and the ingest's progress, and writes them as
JSON with --json. The window ends after --seconds whether or not the ingest has: an
upload still running then is left to the server, which is stopped.

    python3 scripts/load-test.py --verity target/release/verity [--clients 50] \
        [--seconds 60] [--passages 50000] [--no-models]

Only the Python standard library is used. Every document is generated from invented
places and agencies; nothing is read from the network.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TOWNS = ["Port Vellan", "Kellbridge", "Marrow County", "Ashwick", "Dunmere", "Tollow Bay"]
BODIES = ["harbour board", "water authority", "school board", "transit agency", "library trust"]
THINGS = ["ferry pier", "flood barrier", "east wing", "night bus", "reading room", "weir"]
VERBS = ["approved", "delayed", "funded", "closed", "reopened", "inspected"]
QUERIES = [f"{town} {b} {t}" for town in TOWNS for b in BODIES for t in THINGS] + [
    f"{v} {t} cost" for v in VERBS for t in THINGS
]


def document(rng, i):
    town, body, thing, verb = (rng.choice(x) for x in (TOWNS, BODIES, THINGS, VERBS))
    text = (
        f"The {town} {body} {verb} work on the {thing} on day {i % 365 + 1}. "
        f"Officials said the {thing} would cost {rng.randint(1, 90)} million and take "
        f"{rng.randint(2, 40)} months. Residents of {town} asked for a public meeting "
        f"about the {thing} before the {body} votes again."
    )
    return {"text": text, "title": f"{town} {thing} ({i})", "kind": "news"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(name, payload):
    boundary = "verityload%016x" % random.getrandbits(64)
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return boundary, head + payload + f"\r\n--{boundary}--\r\n".encode()


def jsonl(docs):
    return "".join(json.dumps(d) + "\n" for d in docs).encode()


def upload(port, name, payload):
    boundary, body = multipart(name, payload)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(
        "POST",
        "/api/sources",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"upload {name}: HTTP {resp.status}: {data[:300]!r}")
    return json.loads(data)


def wait_healthy(port, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("verity serve exited early")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("verity serve did not become healthy")


def passages_stored(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/health")
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data.get("passages", 0)


def searcher(port, stop, seed, out):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat, errors = [], []
    while not stop.is_set():
        q = urllib.parse.quote(rng.choice(QUERIES))
        t = time.perf_counter()
        try:
            conn.request("GET", f"/api/search?q={q}&limit=10")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"HTTP {resp.status}")
        except (OSError, http.client.HTTPException) as e:
            errors.append(type(e).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        lat.append(time.perf_counter() - t)
    conn.close()
    out.append((lat, errors))


def batches(passages, per_upload):
    """The uploads, made before the window opens so that building them takes no CPU
    time from the measured searches: (documents in it, JSONL bytes)."""
    rng = random.Random(7)
    out = []
    for start in range(0, passages, per_upload):
        n = min(per_upload, passages - start)
        out.append((n, jsonl([document(rng, 10_000 + start + i) for i in range(n)])))
    return out


def ingester(port, uploads, stop, report):
    sent = added = 0
    t = time.perf_counter()
    try:
        for n, payload in uploads:
            if stop.is_set():
                break
            report.update(uploading=n)
            r = upload(port, f"batch-{sent}.jsonl", payload)
            sent += n
            added += r.get("added", 0)
            report.update(
                sent=sent, added=added, uploading=0, seconds=time.perf_counter() - t
            )
    except Exception as e:  # recorded for the summary; the searchers go on
        if not stop.is_set():
            report["error"] = str(e)
    report["finished"] = sent >= sum(n for n, _ in uploads)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verity", default="target/release/verity")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--passages", type=int, default=50_000)
    ap.add_argument("--per-upload", type=int, default=50_000)
    ap.add_argument("--seed-docs", type=int, default=2_000)
    ap.add_argument("--no-models", action="store_true")
    ap.add_argument("--json", help="write the summary here")
    a = ap.parse_args()

    data = tempfile.mkdtemp(prefix="verity-load-")
    port = free_port()
    cmd = [a.verity, "--data", data, "--quiet"]
    if a.no_models:
        cmd.append("--no-models")
    cmd += ["serve", "--addr", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_healthy(port, proc)
        rng = random.Random(1)
        upload(port, "seed.jsonl", jsonl([document(rng, i) for i in range(a.seed_docs)]))
        uploads = batches(a.passages, a.per_upload)
        stop = threading.Event()
        results, ingest = [], {}
        threads = [
            threading.Thread(target=searcher, args=(port, stop, i, results))
            for i in range(a.clients)
        ]
        ingest.update(sent=0, added=0, seconds=0.0)
        stored_before = passages_stored(port)
        writer = threading.Thread(
            target=ingester,
            args=(port, uploads, stop, ingest),
            daemon=True,
        )
        writer.start()
        for th in threads:
            th.start()
        time.sleep(a.seconds)
        stop.set()
        for th in threads:
            th.join()
        # An upload still running is not waited for: the window is over.
        writer.join(timeout=1)
        ingest["running_at_end"] = writer.is_alive()
        # Passages the ingest committed inside the window (searches come first: the
        # ingest's embedding runs at a lower priority, on the CPU time they leave).
        ingest["passages_stored_in_window"] = passages_stored(port) - stored_before
        lat = sorted(x for r in results for x in r[0])
        errors = [e for r in results for e in r[1]]
        summary = {
            "clients": a.clients,
            "seconds": a.seconds,
            "searches": len(lat),
            "errors": len(errors),
            "error_kinds": sorted(set(errors)),
            "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1),
            "max_ms": round((lat[-1] if lat else float("nan")) * 1000, 1),
            "ingest": ingest,
            "models": not a.no_models,
        }
        print(json.dumps(summary, indent=2))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(summary, f, indent=2)
        return 0 if not errors and "error" not in ingest else 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
