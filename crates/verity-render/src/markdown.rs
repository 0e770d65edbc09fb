//! Markdown: for pasting into a CMS, a ticket or a notebook.

use std::fmt::Write as _;

use verity_types::{Brief, Mode, Sentence};

use crate::{
    citation_numbers, currency_line, lean_words, long_date, passage_pieces, refused_lines,
    source_byline, verification_line,
};

/// Escape text so that Markdown shows it literally (citations stay the brief's own).
pub(crate) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn cites(s: &Sentence) -> String {
    citation_numbers(s)
        .iter()
        .map(|n| format!("[{n}](#source-{n})"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sentence(s: &Sentence) -> String {
    let mut out = md_escape(&s.text);
    if let Some(a) = &s.attribution {
        let _ = write!(out, " ({})", md_escape(a));
    }
    let _ = write!(out, " {}", cites(s));
    if s.flagged {
        let support = s.support.unwrap_or(0.0);
        let _ = write!(out, " *(unsupported: support {support:.2})*");
    }
    out
}

/// Renders a brief as Markdown. Citations link to `#source-n` anchors of the sources list.
pub fn render_markdown(b: &Brief) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", md_escape(&b.title));
    let _ = writeln!(o, "{}\n", md_escape(&currency_line(b)));
    let _ = writeln!(o, "*{}*\n", md_escape(&b.disclaimer));
    for n in &b.notes {
        let _ = writeln!(o, "> Note: {}", md_escape(n));
    }
    if !b.notes.is_empty() {
        o.push('\n');
    }

    if let Some(v) = &b.verdict {
        let _ = writeln!(o, "## Verdict: {}\n", md_escape(&v.label));
        let _ = writeln!(
            o,
            "**Confidence:** {:.2}. {}\n",
            v.confidence,
            md_escape(&v.conclusion)
        );
        let list = |ns: &[usize]| {
            ns.iter()
                .map(|n| format!("[{n}](#source-{n})"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !v.supporting.is_empty() {
            let _ = writeln!(o, "- Strongest support: {}", list(&v.supporting));
        }
        if !v.contradicting.is_empty() {
            let _ = writeln!(o, "- Strongest contradiction: {}", list(&v.contradicting));
        }
        for m in &v.mismatches {
            let _ = writeln!(
                o,
                "- Mismatch: the claim says {}; [{n}](#source-{n}) says {}",
                md_escape(&m.claim),
                md_escape(&m.evidence),
                n = m.source
            );
        }
        for (i, p) in v.parts.iter().enumerate() {
            let cites = list(&[p.supporting.as_slice(), p.contradicting.as_slice()].concat());
            let _ = writeln!(
                o,
                "- Part {}: {} — **{}** {}",
                i + 1,
                md_escape(&p.text),
                md_escape(&p.label),
                cites
            );
        }
        if !v.supporting.is_empty()
            || !v.contradicting.is_empty()
            || !v.mismatches.is_empty()
            || !v.parts.is_empty()
        {
            o.push('\n');
        }
    }

    let _ = writeln!(o, "## Executive summary\n");
    if b.summary.is_empty() {
        let _ = writeln!(
            o,
            "No sentence in the indexed sources could be quoted for this.\n"
        );
    } else {
        let text: Vec<String> = b.summary.iter().map(sentence).collect();
        let _ = writeln!(o, "{}\n", text.join(" "));
    }

    if !b.findings.is_empty() {
        let _ = writeln!(o, "## Findings\n");
    }
    for f in &b.findings {
        let _ = writeln!(o, "### {}. {}\n", f.number, md_escape(&f.heading));
        let text: Vec<String> = f.sentences.iter().map(sentence).collect();
        let _ = writeln!(o, "{}\n", text.join(" "));
    }

    let _ = writeln!(o, "## Sources and their angles\n");
    for g in &b.angles.groups {
        let nums = g
            .sources
            .iter()
            .map(|n| format!("[{n}](#source-{n})"))
            .collect::<Vec<_>>()
            .join(" ");
        let pubs = if g.publishers.is_empty() {
            String::new()
        } else {
            format!(" ({})", md_escape(&g.publishers.join("; ")))
        };
        let _ = writeln!(
            o,
            "- **{}**{pubs} {nums}: {} ({} supporting, {} contradicting, {} context).",
            md_escape(&g.label),
            lean_words(g.lean, b.mode),
            g.supports,
            g.contradicts,
            g.neutral
        );
    }
    if b.angles.groups.is_empty() {
        let _ = writeln!(o, "No sources were cited.");
    }
    o.push('\n');
    if b.angles.divergences.is_empty() {
        let _ = writeln!(
            o,
            "Where framings diverge: no difference in stance was found among the cited sources.\n"
        );
    } else {
        let _ = writeln!(o, "Where framings diverge:\n");
        for d in &b.angles.divergences {
            let _ = writeln!(o, "- {}", md_escape(&d.text));
        }
        o.push('\n');
    }

    let _ = writeln!(o, "## Evidence gaps\n");
    if b.gaps.is_empty() {
        let _ = writeln!(
            o,
            "Every aspect of the {} was touched by at least one indexed source.\n",
            match b.mode {
                Mode::Check => "claim",
                Mode::Ask => "question",
            }
        );
    } else {
        for g in &b.gaps {
            let _ = writeln!(
                o,
                "- {} (second retrieval pass: {} queries, {} search, {} passages examined.)",
                md_escape(&g.statement),
                g.second_pass_queries.len(),
                g.second_pass_modes.join(" and "),
                g.second_pass_candidates
            );
        }
        o.push('\n');
    }

    let _ = writeln!(o, "## Sources\n");
    for s in &b.sources {
        let _ = writeln!(
            o,
            "<a id=\"source-{n}\"></a>**[{n}] {}** — {}  \n{}\n",
            md_escape(&s.title),
            md_escape(&source_byline(s)),
            md_escape(&s.location),
            n = s.n
        );
        if let Some(a) = &s.attribution {
            let _ = writeln!(o, "{}\n", md_escape(a));
        }
        for p in &s.passages {
            let cited: Vec<String> = p.cited.iter().map(|(a, b)| format!("{a}–{b}")).collect();
            let _ = writeln!(
                o,
                "Passage `{}`, characters {}–{} of the source; cited {}:\n",
                p.id,
                p.start,
                p.end,
                cited.join(", ")
            );
            let mut quote = String::new();
            for (text, is_cited) in passage_pieces(p) {
                let t = md_escape(&verity_text(&text));
                if is_cited {
                    let _ = write!(quote, "**{}**", t.trim());
                    if text.ends_with(char::is_whitespace) {
                        quote.push(' ');
                    }
                } else {
                    quote.push_str(&t);
                }
            }
            let _ = writeln!(o, "> {}\n", quote.trim());
        }
    }

    if !b.follow_ups.is_empty() {
        let _ = writeln!(o, "## Want to dive deeper?\n");
        for q in &b.follow_ups {
            let _ = writeln!(o, "- {}", md_escape(q));
        }
        o.push('\n');
    }

    let _ = writeln!(o, "---\n");
    let _ = writeln!(o, "{}", md_escape(&verification_line(b)));
    for d in &b.verification.dropped {
        let _ = writeln!(
            o,
            "- Left out ({}, support {:.2}): {}",
            md_escape(&d.section),
            d.support,
            md_escape(&d.text)
        );
    }
    for line in refused_lines(b) {
        let _ = writeln!(o, "- {}", md_escape(&line));
    }
    let _ = writeln!(o, "\nBrief made by Verity on {}.", long_date(b.checked_on));
    o
}

/// Passage text on one line (blockquotes in Markdown cannot hold raw blank lines).
fn verity_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !last_ws {
                out.push(' ');
            }
            last_ws = true;
        } else {
            out.push(c);
            last_ws = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markdown_syntax() {
        assert_eq!(md_escape("a *b* [c] <d>"), "a \\*b\\* \\[c\\] \\<d\\>");
    }
}
