//! Compose: pick source sentences for the summary, the findings and the bottom line,
//! with a spread of sources; then number sources, describe their angles and raise
//! follow-up questions.

use std::collections::{BTreeSet, HashMap, HashSet};

use verity_types::{
    AngleGroup, Angles, BriefSource, Citation, Divergence, Gap, Lean, Mode, Perspective, Plan,
    Sentence, SourceId, SourceKind, Stance, UsedPassage, Verdict,
};

use crate::gather::Cand;
use crate::text;

/// Words that mark a sentence as contradicting or complicating.
const CONTRAST_CUES: &[&str] = &[
    "however",
    "but",
    "not",
    "despite",
    "although",
    "though",
    "overstated",
    "incorrect",
    "criticis",
    "criticiz",
    "concern",
    "failed",
    "no evidence",
    "instead",
    "disputed",
    "dispute",
    "denied",
    "warned",
    "questioned",
    "did not",
    "does not",
    "was not",
    "never",
];

/// Words that mark a sentence as describing how something works.
const MECHANISM_CUES: &[&str] = &[
    "rule",
    "require",
    "agreement",
    "must",
    "under the",
    "clause",
    "condition",
    "consent",
    "policy",
    "ordinance",
    "law",
    "defin",
    "means",
    "process",
    "eligib",
    "method",
    "procedure",
    "allows",
    "allowed",
    "criteria",
    "responsib",
];

fn has_cue(text: &str, cues: &[&str]) -> bool {
    let l = format!(" {} ", text.to_lowercase());
    cues.iter().any(|c| {
        // Whole-word match at the start so "but" does not hit "contribute".
        let needle = format!(" {c}");
        l.contains(&needle)
    })
}

/// A sentence chosen for the brief.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Pick {
    pub ci: usize,
    pub si: usize,
}

/// Chooses sentences with a spread of sources.
pub(crate) struct Composer<'a> {
    pub cands: &'a [Cand],
    pub mode: Mode,
    pub verdict: Option<Verdict>,
    pub focus: &'a [String],
    pub anchors: &'a BTreeSet<String>,
    pub max_sources: usize,
    used: HashSet<Pick>,
    source_uses: HashMap<SourceId, usize>,
    picked_terms: Vec<BTreeSet<String>>,
}

impl<'a> Composer<'a> {
    pub fn new(
        cands: &'a [Cand],
        mode: Mode,
        verdict: Option<Verdict>,
        focus: &'a [String],
        anchors: &'a BTreeSet<String>,
        max_sources: usize,
    ) -> Self {
        Composer {
            cands,
            mode,
            verdict,
            focus,
            anchors,
            max_sources: max_sources.max(1),
            used: HashSet::new(),
            source_uses: HashMap::new(),
            picked_terms: Vec::new(),
        }
    }

    /// Reserve a pick made elsewhere (verdict evidence) so it counts for the source limit.
    pub fn reserve_source(&mut self, id: &SourceId) {
        self.source_uses.entry(id.clone()).or_insert(0);
    }

    /// The perspective a sentence belongs to, or `None` when it is not fit to quote or off
    /// topic.
    pub fn classify(&self, p: Pick) -> Option<Perspective> {
        let c = &self.cands[p.ci];
        let s = &c.sents[p.si];
        if !s.quotable {
            return None;
        }
        // A passage about another subject is never a finding on a claim.
        if self.mode == Mode::Check && !s.on_subject {
            return None;
        }
        // On topic: counts for the verdict, or names an anchor (a selective entity or a
        // distinctive term) and covers enough of what was asked, itself or its passage.
        let anchored = self.anchors.is_empty() || s.terms.iter().any(|t| self.anchors.contains(t));
        let on_topic = s.relevant
            || (anchored && (s.coverage >= 0.2 || (c.topical >= 0.4 && s.coverage > 0.0)));
        if !on_topic {
            return None;
        }
        // When nothing settles the claim, everything quoted is context and says so.
        let nee = self.verdict == Some(Verdict::NotEnoughEvidence);
        if nee {
            return Some(Perspective::Context);
        }
        if s.relevant {
            if let Some(sc) = s.scores {
                let lean = sc.supports - sc.contradicts;
                if lean >= 0.1 {
                    return Some(Perspective::Supports);
                }
                if lean <= -0.1 {
                    return Some(Perspective::Contradicts);
                }
            }
        }
        let names_focus = self.focus.iter().any(|f| s.terms.contains(f));
        if has_cue(&s.text, CONTRAST_CUES) && (self.mode == Mode::Ask || names_focus) {
            return Some(Perspective::Contradicts);
        }
        if has_cue(&s.text, MECHANISM_CUES) {
            return Some(Perspective::Mechanism);
        }
        if text::has_figure(&s.text) {
            return Some(Perspective::Figures);
        }
        Some(Perspective::Context)
    }

    /// How good a sentence is for the brief, before diversity.
    pub fn score(&self, p: Pick) -> f32 {
        let c = &self.cands[p.ci];
        let s = &c.sents[p.si];
        let strength = match (s.relevant, s.scores) {
            (true, Some(sc)) => (sc.supports - sc.contradicts).abs(),
            _ => 0.0,
        };
        // Very short sentences say little on their own; they compete at up to 0.6×.
        let words = s.text.split_whitespace().count() as f32;
        let length = 0.6 + 0.4 * (words / 15.0).min(1.0);
        (0.5 * s.coverage + 0.3 * strength + 0.2 * c.topical) * c.rank_weight() * length
    }

    /// Every unused sentence of `persp`, best first.
    pub fn pool(&self, persp: Perspective) -> Vec<(Pick, f32)> {
        let mut out = Vec::new();
        for (ci, c) in self.cands.iter().enumerate() {
            for si in 0..c.sents.len() {
                let p = Pick { ci, si };
                if self.used.contains(&p) {
                    continue;
                }
                if self.classify(p) == Some(persp) {
                    out.push((p, self.score(p)));
                }
            }
        }
        out.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then((a.0.ci, a.0.si).cmp(&(b.0.ci, b.0.si)))
        });
        out
    }

    /// Greedily takes up to `n` sentences from `pool`: a source already quoted competes at
    /// 0.6× per earlier quote, a publisher already in this selection at 0.8×; a sentence
    /// that repeats one already chosen (term overlap over 60%) is skipped, and so is a new
    /// source once `max_sources` are in use.
    pub fn take(&mut self, pool: &[(Pick, f32)], n: usize) -> Vec<Pick> {
        let mut out: Vec<Pick> = Vec::new();
        let mut voices: HashMap<String, usize> = HashMap::new();
        while out.len() < n {
            let mut best: Option<(Pick, f32)> = None;
            for (p, score) in pool {
                if self.used.contains(p) {
                    continue;
                }
                let c = &self.cands[p.ci];
                let sid = &c.hit.source.id;
                let uses = self.source_uses.get(sid).copied();
                if uses.is_none() && self.source_uses.len() >= self.max_sources {
                    continue;
                }
                let terms = &c.sents[p.si].terms;
                if self.picked_terms.iter().any(|t| jaccard(t, terms) > 0.6) {
                    continue;
                }
                let v = voices.get(&c.voice()).copied().unwrap_or(0);
                let adjusted =
                    score * 0.6f32.powi(uses.unwrap_or(0) as i32) * 0.8f32.powi(v as i32);
                if best.is_none_or(|(_, b)| adjusted > b) {
                    best = Some((*p, adjusted));
                }
            }
            let Some((p, _)) = best else { break };
            self.mark_used(p);
            *voices.entry(self.cands[p.ci].voice()).or_default() += 1;
            out.push(p);
        }
        out
    }

    fn mark_used(&mut self, p: Pick) {
        let c = &self.cands[p.ci];
        self.used.insert(p);
        *self.source_uses.entry(c.hit.source.id.clone()).or_default() += 1;
        self.picked_terms.push(c.sents[p.si].terms.clone());
    }

    /// The bottom line: the newest decisive evidence not quoted yet (on the winning side
    /// of a verdict; both sides when Mixed).
    pub fn bottom_line(&mut self, share_supports: Option<f32>) -> Vec<Pick> {
        let sides: Vec<Perspective> = match (self.mode, self.verdict, share_supports) {
            (_, Some(Verdict::NotEnoughEvidence), _) => return Vec::new(),
            (Mode::Check, Some(Verdict::Mixed), _) => {
                vec![Perspective::Supports, Perspective::Contradicts]
            }
            (Mode::Check, _, Some(s)) if s >= 0.5 => vec![Perspective::Supports],
            (Mode::Check, _, _) => vec![Perspective::Contradicts],
            (Mode::Ask, _, _) => vec![Perspective::Contradicts, Perspective::Supports],
        };
        let mut out = Vec::new();
        for side in sides {
            let mut pool = self.pool(side);
            // Newest first; score breaks ties.
            pool.sort_by(|a, b| {
                let da = self.cands[a.0.ci].hit.source.meta.published;
                let db = self.cands[b.0.ci].hit.source.meta.published;
                db.cmp(&da).then(b.1.total_cmp(&a.1))
            });
            let pool: Vec<(Pick, f32)> = pool.into_iter().take(3).collect();
            out.extend(self.take(&pool, 1));
            if self.mode == Mode::Ask && !out.is_empty() {
                break;
            }
        }
        out
    }

    /// A brief sentence for a pick, citing its exact span in the source text.
    pub fn sentence(&self, p: Pick, with_attribution: bool) -> Sentence {
        let c = &self.cands[p.ci];
        let s = &c.sents[p.si];
        let passage = &c.hit.passage;
        let stance = match (s.relevant, s.scores) {
            (true, Some(sc)) => Some(lean_stance(sc.supports - sc.contradicts)),
            _ => None,
        };
        Sentence {
            text: s.text.clone(),
            citations: vec![Citation {
                n: 0,
                source_id: c.hit.source.id.clone(),
                passage_id: passage.id.clone(),
                start: passage.start + s.start,
                end: passage.start + s.end,
                quote: s.raw.clone(),
            }],
            attribution: with_attribution.then(|| attribution(c)),
            stance,
            stance_scores: s.scores,
            support: None,
            model_support: None,
            flagged: false,
        }
    }
}

fn lean_stance(lean: f32) -> Stance {
    if lean >= 0.1 {
        Stance::Supports
    } else if lean <= -0.1 {
        Stance::Contradicts
    } else {
        Stance::Neutral
    }
}

/// "Publisher, 2024-11-19" for a candidate (title when there is no publisher).
pub(crate) fn attribution(c: &Cand) -> String {
    let who = c
        .hit
        .source
        .meta
        .publisher
        .clone()
        .or_else(|| c.hit.source.meta.title.clone())
        .unwrap_or_else(|| c.hit.source.location.clone());
    match c.hit.source.meta.published {
        Some(d) => format!("{who}, {d}"),
        None => format!("{who}, undated"),
    }
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let inter = a.intersection(b).count() as f32;
    inter / (a.len() as f32 + b.len() as f32 - inter)
}

/// A heading that states the finding: the perspective, then the lead sentence's key
/// phrase (its first clause, at most 14 words).
pub(crate) fn heading(persp: Perspective, mode: Mode, lead: &str) -> String {
    let phrase = key_phrase(lead);
    if phrase.is_empty() {
        persp.title(mode).to_string()
    } else {
        format!("{}: {}", persp.title(mode), phrase)
    }
}

/// The first clause of a sentence, without speaker labels, quote marks or the final
/// full stop, capped at 14 words.
pub(crate) fn key_phrase(s: &str) -> String {
    let mut t = s.trim();
    // Drop a transcript speaker label ("CASTELLOW: ...").
    if let Some((label, rest)) = t.split_once(": ") {
        if !label.is_empty()
            && label.len() <= 30
            && label
                .chars()
                .all(|c| c.is_uppercase() || c == ' ' || c == '.' || c == '-')
        {
            t = rest.trim();
        }
    }
    let t = t.trim_start_matches(['"', '\'', '“', '‘']);
    let mut cut = t.len();
    for sep in [
        "; ",
        " — ",
        " – ",
        ": ",
        ", but ",
        ", which ",
        ", while ",
        ", although ",
    ] {
        if let Some(i) = t.find(sep) {
            if t[..i].split_whitespace().count() >= 4 {
                cut = cut.min(i);
            }
        }
    }
    let clause = t[..cut].trim_end_matches(['.', ',', '"', '\'', '”', '’', '!']);
    let words: Vec<&str> = clause.split_whitespace().collect();
    if words.len() > 14 {
        format!("{} …", words[..14].join(" "))
    } else {
        words.join(" ")
    }
}

/// Human label of a source kind, as a group.
pub fn kind_label(k: SourceKind) -> &'static str {
    match k {
        SourceKind::Official => "Official statements",
        SourceKind::News => "News reporting",
        SourceKind::Audit => "Audits and watchdogs",
        SourceKind::Advocacy => "Advocacy groups",
        SourceKind::Academic => "Academic research",
        SourceKind::Reference => "Reference works",
        SourceKind::Opinion => "Opinion and commentary",
        SourceKind::Other => "Other sources",
    }
}

/// Numbers the sources in reading order and builds the sources list. `order` holds the
/// citations in reading order; returns the number of each source id.
pub(crate) fn number_sources(
    order: &[&Citation],
    cands: &[Cand],
) -> (HashMap<SourceId, usize>, Vec<BriefSource>) {
    let mut numbers: HashMap<SourceId, usize> = HashMap::new();
    let mut list: Vec<BriefSource> = Vec::new();
    for cit in order {
        let n = match numbers.get(&cit.source_id) {
            Some(n) => *n,
            None => {
                let Some(c) = cands.iter().find(|c| c.hit.source.id == cit.source_id) else {
                    continue;
                };
                let n = list.len() + 1;
                numbers.insert(cit.source_id.clone(), n);
                let src = &c.hit.source;
                list.push(BriefSource {
                    n,
                    id: src.id.clone(),
                    title: src
                        .meta
                        .title
                        .clone()
                        .unwrap_or_else(|| file_name(&src.location)),
                    publisher: src.meta.publisher.clone(),
                    kind: src.meta.kind.unwrap_or(SourceKind::Other),
                    published: src.meta.published,
                    location: src.meta.url.clone().unwrap_or_else(|| src.location.clone()),
                    attribution: src.meta.attribution.clone(),
                    passages: Vec::new(),
                });
                n
            }
        };
        let Some(bs) = list.get_mut(n - 1) else {
            continue;
        };
        let Some(c) = cands.iter().find(|c| c.hit.passage.id == cit.passage_id) else {
            continue;
        };
        let p = &c.hit.passage;
        let up = match bs.passages.iter_mut().find(|u| u.id == p.id) {
            Some(u) => u,
            None => {
                bs.passages.push(UsedPassage {
                    id: p.id.clone(),
                    start: p.start,
                    end: p.end,
                    text: p.text.clone(),
                    cited: Vec::new(),
                });
                let last = bs.passages.len() - 1;
                &mut bs.passages[last]
            }
        };
        if !up.cited.contains(&(cit.start, cit.end)) {
            up.cited.push((cit.start, cit.end));
            up.cited.sort();
        }
    }
    for bs in &mut list {
        bs.passages.sort_by_key(|p| p.start);
    }
    (numbers, list)
}

fn file_name(location: &str) -> String {
    location
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(location)
        .to_string()
}

/// The sources-and-angles section: sources grouped by kind with the way each group
/// leans (from the stances of the sentences cited from it), and where framings diverge.
pub(crate) fn angles(
    sources: &[BriefSource],
    stance_of: &HashMap<usize, (usize, usize)>,
    mode: Mode,
) -> Angles {
    let lean_of = |n: usize| source_lean(stance_of.get(&n).copied().unwrap_or((0, 0)));
    let groups: Vec<AngleGroup> = SourceKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let members: Vec<&BriefSource> = sources.iter().filter(|s| s.kind == kind).collect();
            (!members.is_empty()).then(|| angle_group(kind, &members, &lean_of))
        })
        .collect();
    let sides = match mode {
        Mode::Check => ("supporting the claim", "contradicting or complicating it"),
        Mode::Ask => ("the question's premise", "complicating it"),
    };
    let mut divergences = Vec::new();
    divergences.extend(across_kinds(&groups, &lean_of, sides));
    divergences.extend(split_groups(&groups, stance_of, sides));
    divergences.extend(changed_accounts(sources, &lean_of));
    Angles {
        groups,
        divergences,
    }
}

/// One kind's group: its sources, publishers, and how its members lean.
fn angle_group(
    kind: SourceKind,
    members: &[&BriefSource],
    lean_of: &dyn Fn(usize) -> Lean,
) -> AngleGroup {
    let (mut sup, mut con, mut neu) = (0, 0, 0);
    for m in members {
        match lean_of(m.n) {
            Lean::Supports => sup += 1,
            Lean::Contradicts => con += 1,
            Lean::Split => {
                sup += 1;
                con += 1;
            }
            Lean::Neutral => neu += 1,
        }
    }
    let lean = match (sup > 0, con > 0) {
        (true, false) => Lean::Supports,
        (false, true) => Lean::Contradicts,
        (true, true) => Lean::Split,
        (false, false) => Lean::Neutral,
    };
    let mut publishers: Vec<String> = Vec::new();
    for m in members {
        if let Some(p) = &m.publisher {
            if !publishers.contains(p) {
                publishers.push(p.clone());
            }
        }
    }
    AngleGroup {
        kind,
        label: kind_label(kind).to_string(),
        sources: members.iter().map(|m| m.n).collect(),
        publishers,
        supports: sup,
        contradicts: con,
        neutral: neu,
        lean,
    }
}

/// "[1] [2]".
fn cite(ns: &[usize]) -> String {
    ns.iter()
        .map(|n| format!("[{n}]"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Kinds that lean one way against kinds that lean the other, naming the sources of each
/// group that lean its way. `(for_it, against_it)` word the two sides.
fn across_kinds(
    groups: &[AngleGroup],
    lean_of: &dyn Fn(usize) -> Lean,
    (for_it, against_it): (&str, &str),
) -> Option<Divergence> {
    let leaning = |want: Lean| -> (Vec<&str>, Vec<usize>) {
        let mut labels = Vec::new();
        let mut ns = Vec::new();
        for g in groups {
            if g.lean == want {
                labels.push(g.label.as_str());
                ns.extend(g.sources.iter().filter(|n| lean_of(**n) == want));
            }
        }
        (labels, ns)
    };
    let (pro_labels, pro) = leaning(Lean::Supports);
    let (con_labels, con) = leaning(Lean::Contradicts);
    (!pro.is_empty() && !con.is_empty()).then(|| Divergence {
        text: format!(
            "{} {} lean towards {for_it}, while {} {} lean towards {against_it}.",
            join_labels(&pro_labels),
            cite(&pro),
            join_labels(&con_labels).to_lowercase(),
            cite(&con),
        ),
        sources: pro.iter().chain(&con).copied().collect(),
    })
}

/// Groups split within themselves, with the sources on each side.
fn split_groups(
    groups: &[AngleGroup],
    stance_of: &HashMap<usize, (usize, usize)>,
    (for_it, against_it): (&str, &str),
) -> Vec<Divergence> {
    let mut out = Vec::new();
    for g in groups.iter().filter(|g| g.lean == Lean::Split) {
        let with = |f: fn(&(usize, usize)) -> bool| -> Vec<usize> {
            g.sources
                .iter()
                .copied()
                .filter(|n| stance_of.get(n).is_some_and(f))
                .collect()
        };
        let pro = with(|(s, _)| *s > 0);
        let con = with(|(_, c)| *c > 0);
        out.push(Divergence {
            text: format!(
                "{} are split: {} lean towards {for_it}, {} towards {against_it}.",
                g.label,
                cite(&pro),
                cite(&con)
            ),
            sources: pro.iter().chain(&con).copied().collect(),
        });
    }
    out
}

/// One publisher changing its account over time (a correction, a revised figure): its
/// earliest supporting and latest contradicting sources, when dated differently.
fn changed_accounts(sources: &[BriefSource], lean_of: &dyn Fn(usize) -> Lean) -> Vec<Divergence> {
    let mut by_pub: HashMap<&str, Vec<&BriefSource>> = HashMap::new();
    for s in sources {
        if let Some(p) = s.publisher.as_deref() {
            by_pub.entry(p).or_default().push(s);
        }
    }
    let mut pubs: Vec<&&str> = by_pub.keys().collect();
    pubs.sort();
    let mut out = Vec::new();
    for p in pubs {
        let list = &by_pub[*p];
        let earlier = list
            .iter()
            .filter(|s| lean_of(s.n) == Lean::Supports)
            .min_by_key(|s| s.published);
        let later = list
            .iter()
            .filter(|s| lean_of(s.n) == Lean::Contradicts)
            .max_by_key(|s| s.published);
        let (Some(a), Some(b)) = (earlier, later) else {
            continue;
        };
        let (Some(da), Some(db)) = (a.published, b.published) else {
            continue;
        };
        if da == db {
            continue;
        }
        let (old, new) = if da < db { (a, b) } else { (b, a) };
        out.push(Divergence {
            text: format!(
                "{p}'s own account changed: its {} statement [{}] and its {} statement [{}] lean different ways.",
                old.published.map(|d| d.to_string()).unwrap_or_default(),
                old.n,
                new.published.map(|d| d.to_string()).unwrap_or_default(),
                new.n
            ),
            sources: vec![old.n, new.n],
        });
    }
    out
}

/// A source's lean from its (supporting, contradicting) sentence counts.
pub(crate) fn source_lean((s, c): (usize, usize)) -> Lean {
    match (s > 0, c > 0) {
        (true, false) => Lean::Supports,
        (false, true) => Lean::Contradicts,
        (true, true) if s > c => Lean::Supports,
        (true, true) if c > s => Lean::Contradicts,
        (true, true) => Lean::Split,
        (false, false) => Lean::Neutral,
    }
}

fn join_labels(labels: &[&str]) -> String {
    match labels {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        l.to_string()
                    } else {
                        l.to_lowercase()
                    }
                })
                .collect();
            format!("{} and {}", init.join(", "), last.to_lowercase())
        }
    }
}

/// What the follow-up questions draw on.
pub(crate) struct FollowUpInput<'a> {
    pub plan: &'a Plan,
    pub gaps: &'a [Gap],
    pub figures: Vec<(String, String)>,
    pub angles: &'a Angles,
    pub evidence_entities: Vec<String>,
    pub newest: Option<chrono::NaiveDate>,
    pub has_mechanism: bool,
    pub supporting_publisher: Option<String>,
    pub has_contradiction: bool,
}

/// Five follow-up questions that the evidence raises and the brief does not answer,
/// templated from the gaps, the figures quoted, divergent framings, entities in the
/// evidence and the evidence's currency. Always five (generic ones fill in).
pub(crate) fn follow_ups(f: &FollowUpInput<'_>) -> Vec<String> {
    let topic = f
        .plan
        .entities
        .first()
        .cloned()
        .unwrap_or_else(|| lower_first(f.plan.statement.trim_end_matches(['?', '.'])));
    let mut qs: Vec<String> = gap_questions(f, &topic);
    if let Some((fig, attr)) = f.figures.first() {
        qs.push(format!(
            "How was the figure of {fig} ({attr}) arrived at, and has it been revised since?"
        ));
    }
    qs.extend(divergence_question(f.angles));
    for e in f.evidence_entities.iter().take(2) {
        match f.newest {
            Some(d) => qs.push(format!(
                "What part does {e} play in this, and what has changed there since {d}?"
            )),
            None => qs.push(format!("What part does {e} play in this?")),
        }
    }
    if f.has_mechanism {
        qs.push(
            "Which rules or agreements shape this, and how is compliance with them checked?"
                .to_string(),
        );
    }
    if f.has_contradiction {
        if let Some(p) = &f.supporting_publisher {
            qs.push(format!(
                "Has {p} responded to the evidence that contradicts its account?"
            ));
        }
    }
    if let Some(d) = f.newest {
        qs.push(format!(
            "What has changed since {d}, the date of the newest source used here?"
        ));
    }
    qs.extend(generic_questions(&topic));
    let mut out: Vec<String> = Vec::new();
    for q in qs {
        if !out.contains(&q) {
            out.push(q);
        }
        if out.len() == 5 {
            break;
        }
    }
    out
}

/// Questions for the first two gaps.
fn gap_questions(f: &FollowUpInput<'_>, topic: &str) -> Vec<String> {
    let statement_lc = lower_first(f.plan.hypothesis.trim_end_matches(['?', '.']));
    let question = |g: &Gap| {
        if g.aspect == f.plan.statement {
            match f.plan.mode {
                Mode::Check => {
                    format!("What records outside this library would show whether {statement_lc}?")
                }
                Mode::Ask => {
                    format!("Which sources outside this library address whether {statement_lc}?")
                }
            }
        } else if g.aspect.starts_with("evidence contradicting") {
            format!("Has anyone independently challenged the claim that {statement_lc}?")
        } else if g.aspect.starts_with("evidence supporting") {
            format!("Is there any record that supports the claim that {statement_lc}?")
        } else {
            format!(
                "What do sources outside this library say about {} in connection with {topic}?",
                g.aspect
            )
        }
    };
    f.gaps.iter().take(2).map(question).collect()
}

/// A question on the first divergence: why two kinds of source frame it differently, or
/// what led a publisher to change its account.
fn divergence_question(angles: &Angles) -> Option<String> {
    let d = angles.divergences.first()?;
    let pro = angles.groups.iter().find(|g| g.lean == Lean::Supports);
    let con = angles.groups.iter().find(|g| g.lean == Lean::Contradicts);
    if let (Some(a), Some(b)) = (pro, con) {
        Some(format!(
            "Why do {} and {} frame this differently, and what evidence does each rely on?",
            a.label.to_lowercase(),
            b.label.to_lowercase()
        ))
    } else if d.text.contains("own account changed") {
        let p = d.text.split("'s own account").next()?;
        Some(format!("What led {p} to change its account?"))
    } else {
        None
    }
}

/// Questions any brief can end with.
fn generic_questions(topic: &str) -> [String; 4] {
    [
        format!("Which independent sources, not in this library, have examined {topic}?"),
        "What would the primary documents behind these sources (minutes, contracts, datasets) show?"
            .to_string(),
        format!("Who is affected by {topic}, and are their views represented in these sources?"),
        "How do the sources define the key terms they use, and do their definitions agree?"
            .to_string(),
    ]
}

pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep proper names and acronyms: lower only when the second letter is lower too.
        Some(f) if f.is_uppercase() && c.clone().next().is_some_and(|n| n.is_lowercase()) => {
            let first_word: String = s.split_whitespace().next().unwrap_or("").to_string();
            let is_common = text::is_stopword(&first_word.to_lowercase());
            if is_common {
                f.to_lowercase().collect::<String>() + c.as_str()
            } else {
                s.to_string()
            }
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_phrase_takes_the_first_clause() {
        assert_eq!(
            key_phrase("The Dunmore ferry carried 41,000 passengers in 2022; fares rose later."),
            "The Dunmore ferry carried 41,000 passengers in 2022"
        );
        assert_eq!(
            key_phrase("MARSH: The weir was never meant to hold back a flood like that."),
            "The weir was never meant to hold back a flood like that"
        );
        let long = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen.";
        assert!(key_phrase(long).ends_with('…'));
    }

    #[test]
    fn jaccard_of_sets() {
        let a: BTreeSet<String> = ["x", "y"].iter().map(|s| s.to_string()).collect();
        let b: BTreeSet<String> = ["y", "z"].iter().map(|s| s.to_string()).collect();
        assert!((jaccard(&a, &b) - 1.0 / 3.0).abs() < 1e-5);
        assert!((jaccard(&a, &a) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn cues_match_whole_word_starts() {
        assert!(has_cue("However, the weir leaked.", CONTRAST_CUES));
        assert!(!has_cue("Funds contribute to the weir.", CONTRAST_CUES));
        assert!(has_cue("Owners must sign a consent form.", MECHANISM_CUES));
    }

    #[test]
    fn lower_first_keeps_names() {
        assert_eq!(lower_first("The weir flooded"), "the weir flooded");
        assert_eq!(lower_first("Dunmore flooded"), "Dunmore flooded");
    }
}
