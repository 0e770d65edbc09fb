#!/usr/bin/env python3
"""Seed corpora for the cargo-fuzz targets, from the hostile seeds of issue 14.

    python3 fuzz/seeds.py HOSTILE_SEEDS_DIR OUT_DIR

Writes OUT_DIR/<target>/ for each target in `fuzz/Cargo.toml`:
  read_document  every hostile seed (see scripts/hostile-seeds.py), each prefixed with the
                 byte that picks its format the way `fuzz_targets/read_document.rs` reads
                 it; every seed again with the 0 byte (format sniffed from the content)
  parse_date     the date forms the parser documents, and near misses
  api_request    request bodies for each route of `fuzz_targets/api_request.rs`
Python 3 standard library only; everything written is fictional.
"""

import os
import sys

# Index into FORMATS in fuzz_targets/read_document.rs.
FORMAT_BYTE = {".txt": 1, ".md": 2, ".html": 3, ".pdf": 4, ".jsonl": 5}

DATES = [
    "2024-03-05", "2024-03-05T10:00:00Z", "2024/03/05", "20240305",
    "D:20240305103000+01'00'", "March 5, 2024", "Mar. 5th 2024",
    "Tuesday, 5 March 2024", "5-Mar-2024", "Tue, 05 Mar 2024 10:00:00 GMT",
    "05/03/2024", "2024-02-30", "0000-01-01", "9999-12-31", "February 29, 2023",
    "Sept. 31st 1999", "", "   ", "yesterday",
]

MULTIPART = (
    "--fuzzboundary\r\n"
    'Content-Disposition: form-data; name="file"; filename="weir.md"\r\n'
    "Content-Type: text/markdown\r\n\r\n"
    "# Tollow Bay weir\n\nThe Tollow Bay water authority closed the weir in March 2021.\r\n"
    "--fuzzboundary--\r\n"
)

# First byte: the route (fuzz_targets/api_request.rs, `pick % 7`).
API = [
    (0, '{"claim": "The Tollow Bay weir closed in 2021."}'),
    (0, '{"question": "Who closed the weir?", "as_of": "2024-03-05"}'),
    (0, '{"claim": "x", "show_unsupported": true, "extra": [1, {"a": null}]}'),
    (1, '{"url": "http://127.0.0.1:1/report", "attribution": "Tollow Bay Gazette"}'),
    (1, '{"url": "file:///etc/passwd"}'),
    (2, MULTIPART),
    (3, "q=weir&limit=5"),
    (3, "q=weir&limit=5&offset=18446744073709551615&kind=news&after=2020-01-01"),
    (4, "checks?limit=3"),
    (4, "sources/jobs/unknown"),
    (5, 'text/plain\n{"claim": "The weir closed."}'),
    (5, 'application/json; charset=utf-16\n{"claim": "The weir closed."}'),
    (6, "0123456789abcdef"),
]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    seeds, out = sys.argv[1], sys.argv[2]
    docs = os.path.join(out, "read_document")
    os.makedirs(docs, exist_ok=True)
    for name in sorted(os.listdir(seeds)):
        path = os.path.join(seeds, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        ext = os.path.splitext(name)[1].lower()
        write(os.path.join(docs, name), bytes([FORMAT_BYTE.get(ext, 0)]) + data)
        write(os.path.join(docs, "sniffed-" + name), b"\0" + data)
    dates = os.path.join(out, "parse_date")
    os.makedirs(dates, exist_ok=True)
    for i, d in enumerate(DATES):
        write(os.path.join(dates, f"date-{i:02}"), d.encode())
    api = os.path.join(out, "api_request")
    os.makedirs(api, exist_ok=True)
    for i, (pick, body) in enumerate(API):
        write(os.path.join(api, f"request-{i:02}"), bytes([pick]) + body.encode())


if __name__ == "__main__":
    main()
