//! Stage 7 (optional), write with a language model: the model gets the brief's cited
//! passages, numbered and quoted as data, and writes the summary, the findings' prose
//! and follow-up questions, citing passages as `[n]`. Every statement it writes goes
//! through the same support check as an extracted sentence
//! ([`verify::support_scores`](crate::verify::support_scores)) against the passages it
//! cites. One that cites nothing, cites a passage it was not given, or is not supported
//! is sent back once, with the reason (at most eight of them); what fails
//! again is dropped and counted. The
//! verdict, the sources, the angles and the gaps stay Verity's own.
//!
//! A follow-up question asserts nothing, so it is not scored for support; it must be a
//! question and cite a passage it was given.

mod parse;
mod prompt;

use std::collections::HashMap;

use verity_judge::StanceModel;
use verity_llm::{ChatModel, Message, Reply};
use verity_types::{
    Brief, Citation, DropReason, DroppedSentence, Passage, PassageId, Progress, Sentence,
    WriterAudit,
};

use crate::error::ComposeError;
use crate::{verify, BriefRequest};
use parse::{Section, Written};
use prompt::Numbered;

pub(crate) use prompt::{quote, PROMPT_VERSION};

/// Most refused sentences sent back in one rewrite request; the rest are dropped as they
/// are (a small model can answer with dozens of uncited lines).
const MAX_SENT_BACK: usize = 8;

/// Most follow-up questions a brief carries.
const MAX_FOLLOW_UPS: usize = 5;

/// What the model's sentences came to after the check.
#[derive(Debug, Default)]
struct Outcome {
    /// Statements kept (flagged ones included), with their section.
    kept: Vec<(Section, Sentence)>,
    /// Questions kept.
    questions: Vec<String>,
    /// Refused sentences: (section, text, reason, support).
    refused: Vec<(Option<Section>, String, DropReason, f32)>,
    /// Statements and questions read.
    statements: usize,
    questions_written: usize,
}

/// Rewrites `brief`'s prose with `chat`; see the module docs.
pub(crate) fn run(
    mut brief: Brief,
    chat: &dyn ChatModel,
    judge: &dyn StanceModel,
    req: &BriefRequest,
    progress: &dyn Progress,
) -> Result<Brief, ComposeError> {
    progress.stage("write", None);
    let mut audit = WriterAudit {
        model: chat.name().to_string(),
        endpoint: chat.endpoint().to_string(),
        prompt_version: PROMPT_VERSION.to_string(),
        ..WriterAudit::default()
    };
    // Nothing to write from: the brief stays as extracted.
    if let Some(outcome) = converse(&brief, chat, judge, req, &mut audit)? {
        apply(&mut brief, outcome, &mut audit, req.show_unsupported);
        brief.notes.push(note(&audit));
    }
    brief.writer = Some(audit);
    Ok(brief)
}

/// Asks for the prose, checks it, sends refused statements back once and checks the
/// rewrites. `None` when the brief cites no passage.
fn converse(
    brief: &Brief,
    chat: &dyn ChatModel,
    judge: &dyn StanceModel,
    req: &BriefRequest,
    audit: &mut WriterAudit,
) -> Result<Option<Outcome>, ComposeError> {
    let passages = prompt::number_passages(brief);
    if passages.is_empty() {
        return Ok(None);
    }
    let checker = Checker::new(brief, &passages, judge, req);
    let mut messages = prompt::messages(brief, &passages);
    let first = call(chat, &messages, audit)?;
    let mut round = checker.check(&parse::parse(&first.content), false)?;
    // Format slips are not sent back: there is nothing in them to correct.
    let sent_back: Vec<(String, DropReason)> = round
        .refused
        .iter()
        .filter(|r| r.2 != DropReason::Format)
        .map(|r| (r.1.clone(), r.2))
        .take(MAX_SENT_BACK)
        .collect();
    if !sent_back.is_empty() {
        audit.sent_back = sent_back.len();
        messages.push(Message::assistant(first.content));
        messages.push(Message::user(prompt::rewrite(&sent_back)));
        let second = call(chat, &messages, audit)?;
        let again = checker.check(&parse::parse(&second.content), req.show_unsupported)?;
        merge(&mut round, again);
    }
    drop_repeats(&mut round);
    Ok(Some(round))
}

/// One call to the model; its failure is the brief's, with the model named.
pub(crate) fn ask(chat: &dyn ChatModel, messages: &[Message]) -> Result<Reply, ComposeError> {
    chat.chat(messages).map_err(|source| ComposeError::Writer {
        model: chat.name().to_string(),
        source: Box::new(source),
    })
}

/// [`ask`], counted in the writer's audit.
fn call(
    chat: &dyn ChatModel,
    messages: &[Message],
    audit: &mut WriterAudit,
) -> Result<Reply, ComposeError> {
    let reply = ask(chat, messages)?;
    audit.calls += 1;
    audit.latency_ms += reply.elapsed.as_millis() as u64;
    add(&mut audit.prompt_tokens, reply.prompt_tokens);
    add(&mut audit.completion_tokens, reply.completion_tokens);
    Ok(reply)
}

fn add(total: &mut Option<u64>, more: Option<u64>) {
    if let Some(m) = more {
        *total = Some(total.unwrap_or(0) + m);
    }
}

fn merge(into: &mut Outcome, more: Outcome) {
    into.kept.extend(more.kept);
    into.questions.extend(more.questions);
    into.refused.extend(more.refused);
    into.statements += more.statements;
    into.questions_written += more.questions_written;
}

/// The check every written sentence goes through.
struct Checker<'a> {
    passages: &'a [Numbered<'a>],
    map: HashMap<PassageId, Passage>,
    findings: usize,
    judge: &'a dyn StanceModel,
    req: &'a BriefRequest,
}

impl<'a> Checker<'a> {
    fn new(
        brief: &Brief,
        passages: &'a [Numbered<'a>],
        judge: &'a dyn StanceModel,
        req: &'a BriefRequest,
    ) -> Self {
        Checker {
            passages,
            map: prompt::passage_map(passages),
            findings: brief.findings.len(),
            judge,
            req,
        }
    }

    /// Sorts written sentences into kept and refused. With `flag`, an unsupported
    /// statement is kept, flagged (`--show-unsupported` on the last round).
    fn check(&self, written: &[Written], flag: bool) -> Result<Outcome, ComposeError> {
        let mut out = Outcome::default();
        let mut to_score: Vec<(Section, Sentence)> = Vec::new();
        for w in written {
            if w.section == Some(Section::Questions) {
                out.questions_written += 1;
            } else {
                out.statements += 1;
            }
            match self.precheck(w) {
                Err(reason) => out.refused.push((w.section, w.text.clone(), reason, 0.0)),
                Ok(Section::Questions) => out.questions.push(w.text.clone()),
                Ok(section) => to_score.push((section, self.sentence(w))),
            }
        }
        let sents: Vec<Sentence> = to_score.iter().map(|(_, s)| s.clone()).collect();
        let threshold = self.req.support_threshold;
        let scores = verify::support_scores(
            &sents,
            &self.map,
            self.judge,
            !self.req.strict_support,
            threshold,
        )?;
        for ((section, mut s), (sup, model)) in to_score.into_iter().zip(scores) {
            s.support = Some(sup);
            s.model_support = Some(model);
            if sup >= threshold {
                out.kept.push((section, s));
            } else if flag {
                s.flagged = true;
                out.kept.push((section, s));
            } else {
                out.refused
                    .push((Some(section), s.text, DropReason::Unsupported, sup));
            }
        }
        Ok(out)
    }

    /// The checks that need no model: a section of the format, citations, and only to
    /// passages given.
    fn precheck(&self, w: &Written) -> Result<Section, DropReason> {
        let section = match w.section {
            Some(Section::Finding(n)) if n == 0 || n > self.findings => {
                return Err(DropReason::Format)
            }
            Some(s) => s,
            None => return Err(DropReason::Format),
        };
        if section == Section::Questions && !w.text.ends_with('?') {
            return Err(DropReason::Format);
        }
        if echoes_markup(&w.text) {
            return Err(DropReason::Format);
        }
        if w.cites.is_empty() {
            return Err(DropReason::NoCitation);
        }
        if w.cites.iter().any(|k| *k == 0 || *k > self.passages.len()) {
            return Err(DropReason::UnknownPassage);
        }
        Ok(section)
    }

    /// The sentence with one citation per passage it cites (the whole passage's span).
    fn sentence(&self, w: &Written) -> Sentence {
        let citations = w
            .cites
            .iter()
            .filter_map(|k| self.passages.get(k - 1))
            .map(|n| Citation {
                n: n.source.n,
                source_id: n.source.id.clone(),
                passage_id: n.passage.id.clone(),
                start: n.passage.start,
                end: n.passage.end,
                quote: n.passage.text.clone(),
            })
            .collect();
        Sentence::cited(w.text.clone(), citations)
    }
}

/// A line of the prompt's own markup written back (`<passage n="1" ...>`, a label
/// such as "Passages (quoted data):"): nothing the brief can say.
fn echoes_markup(text: &str) -> bool {
    let t = text.trim();
    t.starts_with(['<', '‹']) || t.ends_with(['>', '›', ':'])
}

/// Keeps the first of statements written twice in one section (a model can repeat
/// itself, and a rewrite can repeat what was kept); the others are refused as repeated.
fn drop_repeats(outcome: &mut Outcome) {
    let mut seen: std::collections::HashSet<(Section, String)> = std::collections::HashSet::new();
    let kept = std::mem::take(&mut outcome.kept);
    for (section, s) in kept {
        let key = (section, crate::text::squash(&s.text).to_lowercase());
        if seen.insert(key) {
            outcome.kept.push((section, s));
        } else {
            let support = s.support.unwrap_or(0.0);
            outcome
                .refused
                .push((Some(section), s.text, DropReason::Repeated, support));
        }
    }
}

/// Puts the kept sentences in the brief: a section the model wrote at least one kept
/// statement for is replaced by them; the others stay as extracted. The model's
/// questions come first among the follow-ups.
fn apply(brief: &mut Brief, outcome: Outcome, audit: &mut WriterAudit, list_refused: bool) {
    let Outcome {
        kept,
        questions,
        refused,
        statements,
        questions_written,
    } = outcome;
    audit.written = statements;
    audit.kept = kept.len();
    audit.questions_written = questions_written;
    let summary: Vec<Sentence> = of_section(&kept, Section::Summary);
    if !summary.is_empty() {
        brief.summary = summary;
    }
    for f in &mut brief.findings {
        let sents = of_section(&kept, Section::Finding(f.number));
        if !sents.is_empty() {
            f.sentences = sents;
        }
    }
    let mut follow: Vec<String> = Vec::new();
    let mut from_model = 0;
    let model_questions = questions.into_iter().map(|q| (q, true));
    let own = std::mem::take(&mut brief.follow_ups)
        .into_iter()
        .map(|q| (q, false));
    for (q, written) in model_questions.chain(own) {
        if follow.len() < MAX_FOLLOW_UPS && !follow.iter().any(|f| f.eq_ignore_ascii_case(&q)) {
            follow.push(q);
            from_model += usize::from(written);
        }
    }
    audit.questions_kept = from_model;
    brief.follow_ups = follow;
    let statements_refused: Vec<_> = refused
        .iter()
        .filter(|r| r.0 != Some(Section::Questions))
        .collect();
    audit.dropped = statements_refused.len();
    audit.dropped_by_reason = DropReason::ALL
        .iter()
        .map(|r| (*r, statements_refused.iter().filter(|x| x.2 == *r).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    if list_refused {
        audit.refused = refused
            .into_iter()
            .map(|(section, text, reason, support)| DroppedSentence {
                section: section_name(section),
                text,
                support,
                reason: Some(reason),
            })
            .collect();
    }
}

fn of_section(kept: &[(Section, Sentence)], section: Section) -> Vec<Sentence> {
    kept.iter()
        .filter(|(s, _)| *s == section)
        .map(|(_, x)| x.clone())
        .collect()
}

fn section_name(section: Option<Section>) -> String {
    match section {
        Some(Section::Summary) => "summary".into(),
        Some(Section::Finding(n)) => format!("finding {n}"),
        Some(Section::Questions) => "follow-up questions".into(),
        None => "outside the format".into(),
    }
}

/// The note every model-written brief carries.
fn note(a: &WriterAudit) -> String {
    let reasons: Vec<String> = a
        .dropped_by_reason
        .iter()
        .map(|(r, n)| format!("{n} {}", r.describe()))
        .collect();
    let dropped = if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join("; "))
    };
    format!(
        "The prose was written by the language model `{}` and checked sentence by sentence against the passages each one cites: {} statements written, {} kept, {} sent back once to be rewritten, {} dropped{}. Sections the model wrote no supported sentence for keep the extracted sentences. The verdict is Verity's own, from its judged evidence.",
        a.model, a.written, a.kept, a.sent_back, a.dropped, dropped
    )
}

#[cfg(test)]
mod tests;
