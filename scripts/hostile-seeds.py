#!/usr/bin/env python3
"""Write the hostile seed corpus of issue 14 into a folder (default `target/hostile-seeds/`).

    python3 scripts/hostile-seeds.py [DIR]

Python 3 standard library only. Nothing here is committed: `target/` is ignored, and the
files are cheap to make again (about ten seconds; about 22 MB on disk).

Seeds (all text is fictional):

  pdf-pages-self-cycle.pdf   a /Pages node that is its own /Parent and lists itself in
                             its own /Kids (a page-tree walk that never ends)
  pdf-pages-two-cycle.pdf    two /Pages nodes, each the other's parent and kid
  pdf-parent-cycle-inherited.pdf  a page without /Resources under a /Pages node that is
                             its own /Parent: inherited-attribute lookups walk the cycle
                             (pdf-extract's `get_inherited` recurses until the stack
                             overflows; the same loop the PDF fuzz harness found)
  pdf-inflate-bomb.pdf       a FlateDecode content stream of ~1 MB that inflates to
                             1 GiB of NUL bytes (built streaming, so this script stays
                             small in memory)
  pdf-objstm-bomb.pdf        an /ObjStm claiming 2,147,483,647 objects (/N) whose
                             FlateDecode data inflates to ~45 MB: two million tiny objects
  pdf-objstm-a85-bomb.pdf    an /ObjStm behind [/ASCII85Decode /FlateDecode] (~1.3 MB)
                             that decodes to 1 GiB of NUL bytes: the raw bytes do not
                             look like zlib, and lopdf decodes object streams as it loads
  pdf-valid.pdf              the same PDF writer with nothing hostile, so a failure on
                             the seeds above is about the hostile part, not the writer
  html-100k-divs.html        100,000 nested <div>s (refused `too_deep` by the HTML reader)
  md-billion-laughs.md       YAML front matter whose aliases expand to 9^9 "lol"s
  jsonl-huge-and-deep.jsonl  a 10 MB line, arrays nested 100,000 deep (bare and under a
                             field), a huge number, and one good line
  utf16-odd-length.txt       UTF-16LE with BOM and a dangling last byte
  utf16-bare-odd-length.txt  UTF-16LE without BOM and a dangling last byte
  ansi-escapes.md/.txt/.html ANSI (CSI) and OSC escape sequences (window title, OSC 8
                             hyperlink, screen clear) in the title and the text, diluted
                             with prose so they pass the binary-junk check
  ansi-dense.txt             the same escapes with little prose (refused as `binary`)
  valid-*.md/.txt/.html/.jsonl  small good documents
  fixture-*                  copies of the reader test fixtures, when this runs in the repo

Every PDF is a proper file: header, numbered objects, an xref table with the right byte
offsets and a trailer, so a parser gets past the structure and reaches the hostile part.

How the harnesses use them: `crates/verity-ingest/tests/fuzz_parsers.rs` generates
inputs of the same families at random (tag soup, front matter with alias bombs, JSONL
lines, encodings, mutated PDFs) and, when `VERITY_SEEDS_DIR` names this folder, also
reads every seed here through `read_bytes` on a thread with a deadline, asserting no
panic, no hang and the error contract:

    python3 scripts/hostile-seeds.py
    VERITY_SEEDS_DIR=$PWD/target/hostile-seeds cargo test -p verity-ingest --test fuzz_parsers seed_corpus -- --nocapture

PDF seeds are read too (`VERITY_SEEDS_PDF=0` leaves them out): the cycles end as
`corrupt_pdf` and the bombs as `decompressed_too_large`. The CLI (`verity ingest` with parse
isolation) is the other consumer: it should skip each hostile seed with a reason.
"""

import base64
import os
import shutil
import sys
import zlib

GIB = 1 << 30


# --------------------------------------------------------------------------------------
# PDF writer


def pdf(objects, root=1, info=None):
    """A PDF from {number: body bytes}; bodies are written as `N 0 obj ... endobj`."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num
        out += objects[num]
        out += b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for num in range(1, size):
        if num in offsets:
            out += b"%010d 00000 n \n" % offsets[num]
        else:
            out += b"0000000000 65535 f \n"
    trailer = b"<< /Size %d /Root %d 0 R" % (size, root)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def stream(data, extra=b"", flate=False):
    """A stream object body; `data` is already compressed when `flate` is set."""
    filt = b" /Filter /FlateDecode" if flate else b""
    return b"<< /Length %d%s%s >>\nstream\n%s\nendstream" % (len(data), filt, extra, data)


def text_content(line):
    esc = line.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"BT /F1 12 Tf 72 720 Td (%s) Tj ET" % esc


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
INFO = b"<< /Title (Kellbridge weir notice) /Author (Marrow County Audit Office) /CreationDate (D:20240305103000Z) >>"


def page(parent, contents, font=5):
    refs = b" ".join(b"%d 0 R" % c for c in contents)
    return (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents [%s] "
        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (parent, refs, font)
    )


def one_page(line, more, contents=(4,), info=None):
    """Catalog, one /Pages node and one page drawing `line` (object 4) in Helvetica
    (object 5), then the objects in `more`."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: page(2, list(contents)),
        4: stream(text_content(line)),
        5: FONT,
    }
    objects.update(more)
    return pdf(objects, info=info)


def pdf_valid():
    return one_page(b"The weir at Kellbridge closed for repairs on 5 March 2024.", {6: INFO}, info=6)


def pdf_self_cycle():
    return pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            # Its own parent, and its own first kid.
            2: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 2 >>",
            3: page(2, [4]),
            4: stream(text_content(b"A page tree that contains itself.")),
            5: FONT,
        }
    )


def pdf_two_cycle():
    return pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Parent 3 0 R /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 1 >>",
            4: page(3, [6]),
            5: FONT,
            6: stream(text_content(b"Two page-tree nodes, each the other's parent.")),
        }
    )


def pdf_parent_cycle_inherited():
    # The page has no /Resources or /MediaBox of its own, so a reader looks them up the
    # /Parent chain, which loops: Pages 2 is its own parent.
    return pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /Contents [4 0 R] >>",
            4: stream(text_content(b"Resources are inherited from a parent that is its own parent.")),
        }
    )


def deflate_repeated(chunk, total, level=9):
    """zlib data inflating to `total` bytes of `chunk` repeated, built piece by piece."""
    c = zlib.compressobj(level)
    parts = []
    piece = chunk * max(1, (1 << 20) // len(chunk))
    left = total
    while left > 0:
        n = min(left, len(piece))
        parts.append(c.compress(piece[:n]))
        left -= n
    parts.append(c.flush())
    return b"".join(parts)


def pdf_inflate_bomb():
    bomb = deflate_repeated(b"\0", GIB)
    line = b"The next content stream inflates to one gibibyte."
    return one_page(line, {6: stream(bomb, flate=True)}, contents=(4, 6))


def pdf_objstm_bomb():
    # Two million tiny objects (numbers 100.. upward) packed in one object stream.
    count = 2_000_000
    body = bytearray()
    header = bytearray()
    for i in range(count):
        header += b"%d %d " % (100 + i, len(body))
        body += b"(lol) "
    data = bytes(header) + bytes(body)
    comp = zlib.compress(data, 9)
    extra = b" /Type /ObjStm /N 2147483647 /First %d" % len(header)
    line = b"An object stream claims two billion objects."
    return one_page(line, {7: stream(comp, extra=extra, flate=True)})


def pdf_objstm_a85_bomb():
    a85 = base64.a85encode(deflate_repeated(b"\0", GIB)) + b"~>"
    extra = b" /Type /ObjStm /N 1 /First 4 /Filter [/ASCII85Decode /FlateDecode]"
    return one_page(b"The next object stream decodes to one gibibyte.", {6: stream(a85, extra=extra)})


# --------------------------------------------------------------------------------------
# Text formats


def html_deep(depth=100_000):
    return (
        b"<!DOCTYPE html><html><head><title>Deep</title></head><body>"
        + b"<div>" * depth
        + b"The weir is shut."
        + b"</div>" * depth
        + b"</body></html>"
    )


def md_billion_laughs(levels=9, width=9):
    y = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        y.append("l%d: &l%d [%s]" % (i, i, ", ".join(["*l%d" % (i - 1)] * width)))
    y.append("title: *l%d" % (levels - 1))
    y.append("author: *l%d" % (levels - 1))
    return ("---\n" + "\n".join(y) + "\n---\n\nThe harbour board of Port Vellan met on Monday.\n").encode()


def jsonl_huge_and_deep():
    words = ("the weir at kellbridge closed for repairs " * 250_000)[: 10 * 1024 * 1024]
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        '{"text": "%s"}' % words,
        deep,
        '{"text": "nested title", "title": %s}' % deep,
        '{"text": %s}' % ("9" * 100_000),
        '{"text": "The ferry to Port Vellan resumes in May.", "published": "2024-04-01"}',
    ]
    return ("\n".join(lines) + "\n").encode()


UTF16_TEXT = "Footpath notice: the Ostrey towpath reopens on Monday.\nMarrow County Council.\n"


def utf16_odd(bom):
    b = UTF16_TEXT.encode("utf-16-le")
    if bom:
        b = b"\xff\xfe" + b
    return b + b"\x41"  # one dangling byte


ESC = "\x1b"
BEL = "\x07"
ANSI_TITLE = f"{ESC}]0;pwned{BEL}{ESC}[31mRed alert{ESC}[0m{ESC}[2J"
ANSI_TEXT = (
    f"Click {ESC}]8;;https://evil.invalid/{ESC}\\here{ESC}]8;;{ESC}\\ for the weir report. "
    f"{ESC}[1A{ESC}[2KThe line above was erased. {ESC}P+q544e{ESC}\\ {ESC}[?1049h"
    "The harbour at Port Vellan is open.\n"
) + (
    # Enough ordinary prose that the escapes are under the readers' control-character
    # ratio for binary junk: the escapes reach the title and the stored text.
    "The harbour board of Port Vellan met on Monday and agreed the dredging budget. " * 30
    + "\n"
)


def yaml_escaped(s):
    # Raw control characters are not allowed in YAML; its `\e` and `\a` escapes are.
    return s.replace("\\", "\\\\").replace(ESC, "\\e").replace(BEL, "\\a")


def ansi_md():
    title = yaml_escaped(ANSI_TITLE)
    publisher = yaml_escaped(f"{ESC}[5mBlink Gazette")
    return f'---\ntitle: "{title}"\npublisher: "{publisher}"\n---\n\n{ANSI_TEXT}'.encode()


def ansi_txt():
    return f"{ANSI_TITLE}\n\n{ANSI_TEXT}".encode()


def ansi_html():
    return (
        f"<html><head><title>{ANSI_TITLE}</title></head><body><article><p>{ANSI_TEXT}</p>"
        "</article></body></html>"
    ).encode()


VALID = {
    "valid-notice.md": b"---\ntitle: Weir repairs\npublisher: Kellbridge Gazette\npublished: 2024-03-05\nkind: news\n---\n\n"
    b"The weir at Kellbridge will close for repairs. Work starts on Monday.\n",
    "valid-letter.txt": b"Subject: Ferry timetable\nDate: 2024-04-01\n\nThe Port Vellan ferry runs hourly from May.\n",
    "valid-page.html": b"<!DOCTYPE html><html><head><title>Library hours</title></head><body><main>"
    b"<p>Marrow County's library opens on Sundays from June.</p></main></body></html>",
    "valid-lines.jsonl": b'{"text": "The reservoir at Fennick Vale is full.", "title": "Reservoir"}\n'
    b'{"text": "The lighthouse at Harlow Reach was repainted.", "published": "2023-08-09"}\n',
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "target", "hostile-seeds")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "pdf-valid.pdf": pdf_valid,
        "pdf-pages-self-cycle.pdf": pdf_self_cycle,
        "pdf-pages-two-cycle.pdf": pdf_two_cycle,
        "pdf-parent-cycle-inherited.pdf": pdf_parent_cycle_inherited,
        "pdf-inflate-bomb.pdf": pdf_inflate_bomb,
        "pdf-objstm-bomb.pdf": pdf_objstm_bomb,
        "pdf-objstm-a85-bomb.pdf": pdf_objstm_a85_bomb,
        "html-100k-divs.html": html_deep,
        "md-billion-laughs.md": md_billion_laughs,
        "jsonl-huge-and-deep.jsonl": jsonl_huge_and_deep,
        "utf16-odd-length.txt": lambda: utf16_odd(True),
        "utf16-bare-odd-length.txt": lambda: utf16_odd(False),
        "ansi-escapes.md": ansi_md,
        "ansi-escapes.txt": ansi_txt,
        "ansi-escapes.html": ansi_html,
        "ansi-dense.txt": lambda: f"{ANSI_TITLE}\n\n{ANSI_TEXT[:200]}".encode(),
    }
    for name, make in seeds.items():
        data = make()
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name:32} {len(data):>12,} bytes")
    for name, data in VALID.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name:32} {len(data):>12,} bytes")
    fixtures = os.path.join(repo, "crates", "verity-ingest", "tests", "fixtures")
    for name in ("weir-audit-summary.pdf", "weir-repair-bill.html", "council-statement.md", "weir-updates.jsonl"):
        src = os.path.join(fixtures, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(out, "fixture-" + name))
            print(f"{'fixture-' + name:32} {os.path.getsize(src):>12,} bytes")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
