"""Training and evaluation pairs in Verity's context format.

At run time Verity judges a sentence together with its source's title and the sentence
before it (`verity_judge::in_context` in Rust). The model must see the same shape in
training, so every pair built here whose evidence has context is rendered by
`in_context`, which mirrors the Rust function exactly:

    in_context("Kellbridge", "Kellbridge is a town in Marrow County.", "It lies on the coast.")
    == "Kellbridge: Kellbridge is a town in Marrow County. It lies on the coast."

The encyclopaedia-style pairs come from FEVER-Symmetric (Wikipedia sentences) and the
scientific ones from Check-COVID's abstracts.
All text is real and read from ../shared/data at run time; only derived pairs are written,
and only outside the repository.
"""
import json
import os
import random
import re

TITLE_WORDS = 24
BEFORE_WORDS = 40

# Check-COVID abstracts that also occur in HealthVer test (its README): never trained on.
HEALTHVER_TEST_OVERLAP = {"dlpgq0rm", "xl07uq0s", "qi1henyy", "i0ijbt7i"}

STOP = set("""a an the of in on at to for from by with and or but as is are was were be been being it
its this that these those which who whom whose what when where while he she they them his her
their there than then also has have had not no can may might will would such into over
under between about after before during other most more some many one two first we our
study studies patients results data using used based""".split())


def _last_words(text, n):
    words = text.split()
    return " ".join(words[-n:]) if len(words) > n else text.strip()


def _first_words(text, n):
    words = text.split()
    return " ".join(words[:n]) if len(words) > n else text.strip()


def in_context(title, before, sentence):
    """Mirror of `verity_judge::in_context`: "title: before sentence", each part optional
    except the sentence; the title (trailing . : ; dropped) capped at its first 24 words,
    the sentence before at its last 40."""
    parts = []
    title = _first_words(" ".join((title or "").split()), TITLE_WORDS).rstrip(".:;")
    if title:
        parts.append(title + ":")
    before = " ".join((before or "").split())
    if before:
        parts.append(_last_words(before, BEFORE_WORDS))
    parts.append(" ".join(sentence.split()))
    return " ".join(parts)


def content_words(text):
    return {w for w in re.findall(r"[a-z][a-z0-9-]+", text.lower()) if w not in STOP and len(w) > 2}


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def fever_detok(s):
    s = s.replace(" -LRB- ", " (").replace(" -RRB-", ")").replace("-LRB-", "(").replace("-RRB-", ")")
    s = s.replace(" -LSB- ", " [").replace(" -RSB-", "]").replace("-COLON-", ":")
    s = re.sub(r" ([,.;:!?%)\]])", r"\1", s)
    s = re.sub(r"([(\[$]) ", r"\1", s)
    s = s.replace(" 's", "'s").replace(" n't", "n't").replace("`` ", '"').replace(" ''", '"')
    return " ".join(s.split())


# ── Check-COVID ───────────────────────────────────────────────────────────────────────
def checkcovid_corpus(shared):
    return {r["cord_id"]: r for r in read_jsonl(os.path.join(shared, "checkcovid/corpus.json"))}


def checkcovid_rows(shared, split):
    names = {
        "train": ["covidCheck_train_composed+extracted.json"],
        "dev": ["covidCheck_dev_composed+extracted.json"],
        "test": ["covidCheck_test_composed.json", "covidCheck_test_extracted.json"],
    }[split]
    out = []
    for n in names:
        out.extend(read_jsonl(os.path.join(shared, "checkcovid", n)))
    return out


CC_LABEL = {"SUPPORT": 0, "REFUTE": 1, "NOTENOUGHINFO": 2}


def checkcovid_pairs(shared, split, exclude_healthver_overlap=True, all_evidence=False):
    """(claim, evidence in context, label, meta) for each PRIMARY evidence sentence (the
    first listed sentence when none is marked PRIMARY); with `all_evidence`, for the
    SUPPLEMENTARY sentences of the evidence set too (training only: the eval sets keep
    PRIMARY, so their numbers stay comparable)."""
    corpus = checkcovid_corpus(shared)
    out = []
    for r in checkcovid_rows(shared, split):
        cid = r["cord_id"]
        if exclude_healthver_overlap and cid in HEALTHVER_TEST_OVERLAP:
            continue
        doc = corpus.get(cid)
        if not doc or r["label"] not in CC_LABEL:
            continue
        sents = doc["abstract"]
        ev = r["evidence_set"] if all_evidence else (
            [e for e in r["evidence_set"] if e.get("type") == "PRIMARY"] or r["evidence_set"][:1])
        for e in ev:
            i = e["sent_index"]
            if not 0 <= i < len(sents):
                continue
            before = sents[i - 1] if i > 0 else ""
            out.append((r["claim"], in_context(doc.get("title", ""), before, sents[i]),
                        CC_LABEL[r["label"]],
                        {"title": doc.get("title", ""), "before": before, "sentence": sents[i]}))
    return out


def test_cord_ids(shared):
    return {r["cord_id"] for r in checkcovid_rows(shared, "test")}


# ── FEVER-Symmetric ───────────────────────────────────────────────────────────────────
def fever_split(shared, seed=13):
    """Halves of FEVER-Symmetric dev by evidence text (a claim and its counterpart share
    evidence), so no evidence sentence is in both halves: (train, held_out)."""
    rows = read_jsonl(os.path.join(shared, "fever-symmetric/symmetric_v0.2_fever_symmetric_dev.jsonl"))
    groups = {}
    for r in rows:
        groups.setdefault(fever_detok(r["evidence"]), []).append(r)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    half = len(keys) // 2
    m = {"SUPPORTS": 0, "REFUTES": 1}

    def pairs(ks):
        return [(fever_detok(r["claim"]), k, m[r["gold_label"]], {"title": "", "before": "", "sentence": k})
                for k in ks for r in groups[k] if r["gold_label"] in m]
    return pairs(keys[:half]), pairs(keys[half:])


# ── Pairs built from the abstracts themselves ─────────────────────────────────────────
PRONOUN_LEADS = ("It ", "They ", "Its ", "Their ", "This ", "These ", "He ", "She ")


def good_sentence(s):
    return 6 <= len(s.split()) <= 45 and len(s) < 400 and not s.rstrip().endswith("?")


def built_pairs(docs, rng, perturb, per_doc=2):
    """From each (title, sentences) document:
    - supports: a sentence, verbatim or lightly trimmed, against itself in context;
    - contradicts: that sentence perturbed (number, month, antonym, negation) in context;
    - hard neutral, same subject: a sentence of the same document, far from and sharing
      few words with the judged one;
    - off-subject neutral: a sentence of another document sharing the most words with it
      (related wording, another subject: never a contradiction)."""
    out = []
    words = [[content_words(s) for s in d[1]] for d in docs]
    title_words = [content_words(d[0]) for d in docs]
    for di, (title, sents) in enumerate(docs):
        idx = [i for i, s in enumerate(sents) if good_sentence(s)]
        if len(idx) < 2:
            continue
        for i in rng.sample(idx, min(per_doc, len(idx))):
            s = sents[i]
            before = sents[i - 1] if i > 0 else ""
            ctx = in_context(title, before, s)
            claim = s
            if rng.random() < 0.5:
                # A trimmed claim: the sentence without a leading clause ("In 2020, ...").
                claim = re.sub(r"^[A-Z][^,]{0,40}, ", "", s)
                claim = claim[0].upper() + claim[1:] if claim else s
            out.append((claim, ctx, 0))
            bad = perturb(s, rng)
            if bad and bad != s:
                out.append((bad, ctx, 1))
            # Hard neutral: same document, distant sentence, little overlap.
            far = [j for j in idx if abs(j - i) >= 2 and len(words[di][i] & words[di][j]) <= 1]
            if far:
                j = rng.choice(far)
                out.append((sents[j], in_context(title, sents[i - 1] if i > 0 else "", s), 2))
            # Off-subject neutral: another document's closest sentence.
            best, best_k = 0, None
            for dj in rng.sample(range(len(docs)), min(60, len(docs))):
                # Another subject: the titles share at most one content word.
                if dj == di or len(title_words[di] & title_words[dj]) > 1:
                    continue
                for k, w in enumerate(words[dj]):
                    n = len(words[di][i] & w)
                    if n > best:
                        best, best_k = n, (dj, k)
            if best_k and best >= 2:
                dj, k = best_k
                t2, s2 = docs[dj]
                out.append((s, in_context(t2, s2[k - 1] if k > 0 else "", s2[k]), 2))
    return out


def verbatim_set(docs, fever_sentences):
    """Held-out verbatim-support pairs: every good sentence of the given documents against
    itself in context, and each FEVER evidence sentence against itself. A model that reads
    a source's own sentence as neutral fails here (the version 4 regression)."""
    out = []
    for title, sents in docs:
        for i, s in enumerate(sents):
            if good_sentence(s):
                out.append({"claim": s, "evidence": s, "title": title,
                            "before": sents[i - 1] if i > 0 else "", "label": "supports"})
    for s in fever_sentences:
        if good_sentence(s):
            out.append({"claim": s, "evidence": s, "title": "", "before": "", "label": "supports"})
    return out


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


LABEL_NAMES = ["supports", "refutes", "neutral"]


def as_eval_rows(pairs):
    """Pairs with their context kept apart, in `verity eval stance`'s JSONL format
    (claim, evidence = the sentence, title, before, label)."""
    return [{"claim": c, "evidence": m["sentence"], "title": m["title"], "before": m["before"],
             "label": LABEL_NAMES[y]} for c, _, y, m in pairs]
