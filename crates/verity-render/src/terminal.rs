//! Terminal text: wrapped to the width, colour when asked, citations readable.

use console::Style;
use verity_types::{char_slice, terminal_safe, Brief, Mode, Sentence, Verdict};

use crate::{
    citation_numbers, currency_line, lean_words, long_date, refused_lines, source_byline,
    verification_line,
};

struct Styles {
    title: Style,
    heading: Style,
    cite: Style,
    dim: Style,
    flag: Style,
    verdict: Style,
}

impl Styles {
    fn new(color: bool, verdict: Option<Verdict>) -> Self {
        let s = |st: Style| st.force_styling(color);
        let v = match verdict {
            Some(Verdict::Supported | Verdict::MostlySupported) => Style::new().green().bold(),
            Some(Verdict::Mixed) => Style::new().yellow().bold(),
            Some(Verdict::MostlyUnsupported | Verdict::Contradicted) => Style::new().red().bold(),
            _ => Style::new().blue().bold(),
        };
        Styles {
            title: s(Style::new().bold().underlined()),
            heading: s(Style::new().bold()),
            cite: s(Style::new().cyan()),
            dim: s(Style::new().dim()),
            flag: s(Style::new().red()),
            verdict: s(v),
        }
    }
}

/// Wraps plain text to `width`, with `indent` on every line; returns the lines.
/// Escape sequences and control characters from the sources (titles, quotes,
/// locations) are removed here, before any styling of Verity's own is added.
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let opts = textwrap::Options::new(width.max(20))
        .initial_indent(indent)
        .subsequent_indent(indent);
    textwrap::wrap(&terminal_safe(text), opts)
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

/// Wraps a paragraph of sentences, then colours the citation markers, which are added
/// as plain text first so that wrapping counts them.
fn paragraph(sents: &[Sentence], st: &Styles, width: usize, indent: &str) -> String {
    let mut plain = Vec::new();
    for s in sents {
        let mut t = s.text.clone();
        if let Some(a) = &s.attribution {
            t.push_str(&format!(" ({a})"));
        }
        for n in citation_numbers(s) {
            t.push_str(&format!(" [{n}]"));
        }
        if s.flagged {
            t.push_str(&format!(" (UNSUPPORTED {:.2})", s.support.unwrap_or(0.0)));
        }
        plain.push(t);
    }
    let lines = wrap(&plain.join(" "), width, indent);
    lines
        .into_iter()
        .map(|l| colour_markers(&l, st))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Colours "[n]" markers and "(UNSUPPORTED ...)" flags in an already wrapped line.
fn colour_markers(line: &str, st: &Styles) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(['[', '(']) {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let close = if tail.starts_with('[') { ']' } else { ')' };
        match tail.find(close) {
            Some(j)
                if (close == ']' && tail[1..j].chars().all(|c| c.is_ascii_digit()) && j > 1)
                    || (close == ')' && tail.starts_with("(UNSUPPORTED")) =>
            {
                let marker = &tail[..=j];
                let styled = if close == ']' {
                    st.cite.apply_to(marker).to_string()
                } else {
                    st.flag.apply_to(marker).to_string()
                };
                out.push_str(&styled);
                rest = &tail[j + 1..];
            }
            _ => {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Renders a brief for a terminal `width` columns wide, in colour when `color` is true.
pub fn render_terminal(b: &Brief, width: usize, color: bool) -> String {
    let width = width.clamp(40, 160);
    let st = Styles::new(color, b.verdict.as_ref().map(|v| v.verdict));
    let mut o: Vec<String> = Vec::new();
    let title = wrap(&b.title, width, "").join("\n");
    o.push(st.title.apply_to(title).to_string());
    o.push(String::new());
    o.push(wrap(&currency_line(b), width, "").join("\n"));
    o.push(
        st.dim
            .apply_to(wrap(&b.disclaimer, width, "").join("\n"))
            .to_string(),
    );
    for n in &b.notes {
        o.push(
            st.dim
                .apply_to(wrap(&format!("Note: {n}"), width, "  ").join("\n"))
                .to_string(),
        );
    }
    o.push(String::new());

    if let Some(v) = &b.verdict {
        o.push(format!(
            "{} {}  {}",
            st.heading.apply_to("VERDICT:"),
            st.verdict.apply_to(terminal_safe(&v.label)),
            st.dim.apply_to(format!("confidence {:.2}", v.confidence))
        ));
        o.push(wrap(&v.conclusion, width, "").join("\n"));
        let list = |ns: &[usize]| {
            ns.iter()
                .map(|n| st.cite.apply_to(format!("[{n}]")).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !v.supporting.is_empty() {
            o.push(format!("Strongest support: {}", list(&v.supporting)));
        }
        if !v.contradicting.is_empty() {
            o.push(format!(
                "Strongest contradiction: {}",
                list(&v.contradicting)
            ));
        }
        for m in &v.mismatches {
            o.push(wrap(&format!("Mismatch: {}.", m.describe()), width, "  ").join("\n"));
        }
        for (i, p) in v.parts.iter().enumerate() {
            let cites = list(&[p.supporting.as_slice(), p.contradicting.as_slice()].concat());
            let line = format!("Part {}: {} — {} {}", i + 1, p.text, p.label, cites);
            o.push(wrap(line.trim_end(), width, "  ").join("\n"));
        }
        o.push(String::new());
    }

    o.push(st.heading.apply_to("EXECUTIVE SUMMARY").to_string());
    if b.summary.is_empty() {
        o.push("No sentence in the indexed sources could be quoted for this.".to_string());
    } else {
        o.push(paragraph(&b.summary, &st, width, ""));
    }
    o.push(String::new());

    for f in &b.findings {
        let head = wrap(&format!("{}. {}", f.number, f.heading), width, "").join("\n");
        o.push(st.heading.apply_to(head).to_string());
        o.push(paragraph(&f.sentences, &st, width, "   "));
        o.push(String::new());
    }

    o.push(st.heading.apply_to("SOURCES AND THEIR ANGLES").to_string());
    for g in &b.angles.groups {
        let nums = g
            .sources
            .iter()
            .map(|n| format!("[{n}]"))
            .collect::<Vec<_>>()
            .join(" ");
        let line = format!(
            "- {} {}: {} ({} supporting, {} contradicting, {} context).",
            g.label,
            nums,
            lean_words(g.lean, b.mode),
            g.supports,
            g.contradicts,
            g.neutral
        );
        o.extend(
            wrap(&line, width, "")
                .into_iter()
                .map(|l| colour_markers(&l, &st)),
        );
    }
    for d in &b.angles.divergences {
        o.extend(
            wrap(&format!("* {}", d.text), width, "")
                .into_iter()
                .map(|l| colour_markers(&l, &st)),
        );
    }
    o.push(String::new());

    o.push(st.heading.apply_to("EVIDENCE GAPS").to_string());
    if b.gaps.is_empty() {
        o.push(format!(
            "Every aspect of the {} was touched by at least one indexed source.",
            match b.mode {
                Mode::Check => "claim",
                Mode::Ask => "question",
            }
        ));
    }
    for g in &b.gaps {
        o.push(wrap(&format!("- {}", g.statement), width, "").join("\n"));
        o.push(
            st.dim
                .apply_to(format!(
                    "  (second pass: {} queries, {}, {} passages examined)",
                    g.second_pass_queries.len(),
                    g.second_pass_modes.join(" + "),
                    g.second_pass_candidates
                ))
                .to_string(),
        );
    }
    o.push(String::new());

    o.push(st.heading.apply_to("SOURCES").to_string());
    for s in &b.sources {
        let head = format!("[{}] {}", s.n, s.title);
        o.push(colour_markers(&wrap(&head, width, "").join("\n"), &st));
        o.push(wrap(&source_byline(s), width, "    ").join("\n"));
        o.push(
            st.dim
                .apply_to(format!("    {}", terminal_safe(&s.location)))
                .to_string(),
        );
        for p in &s.passages {
            o.push(
                st.dim
                    .apply_to(format!(
                        "    passage {} (characters {}–{})",
                        p.id, p.start, p.end
                    ))
                    .to_string(),
            );
            for (a, z) in &p.cited {
                let quote = a
                    .checked_sub(p.start)
                    .zip(z.checked_sub(p.start))
                    .and_then(|(x, y)| char_slice(&p.text, x, y))
                    .unwrap_or("");
                let quote = quote.split_whitespace().collect::<Vec<_>>().join(" ");
                o.push(wrap(&format!("“{quote}” ({a}–{z})"), width, "      ").join("\n"));
            }
        }
    }
    o.push(String::new());

    if !b.follow_ups.is_empty() {
        o.push(st.heading.apply_to("WANT TO DIVE DEEPER?").to_string());
        for q in &b.follow_ups {
            o.push(wrap(&format!("- {q}"), width, "").join("\n"));
        }
        o.push(String::new());
    }
    o.push(
        st.dim
            .apply_to(wrap(&verification_line(b), width, "").join("\n"))
            .to_string(),
    );
    for line in refused_lines(b) {
        o.push(
            st.dim
                .apply_to(wrap(&format!("  {line}"), width, "  ").join("\n"))
                .to_string(),
        );
    }
    for d in &b.verification.dropped {
        o.push(
            st.dim
                .apply_to(
                    wrap(
                        &format!(
                            "  left out ({}, support {:.2}): {}",
                            d.section, d.support, d.text
                        ),
                        width,
                        "  ",
                    )
                    .join("\n"),
                )
                .to_string(),
        );
    }
    o.push(
        st.dim
            .apply_to(format!(
                "Brief made by Verity on {}.",
                long_date(b.checked_on)
            ))
            .to_string(),
    );
    let mut text = o.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_coloured_only_when_asked() {
        let st = Styles::new(false, None);
        assert_eq!(colour_markers("a [1] b (x) [c]", &st), "a [1] b (x) [c]");
        let st = Styles::new(true, None);
        let out = colour_markers("a [12] b", &st);
        assert!(out.contains("\u{1b}["), "{out:?}");
        assert!(out.contains("[12]"));
    }

    #[test]
    fn source_text_cannot_send_escapes_to_the_terminal() {
        // Issue 14 item 7: a title or sentence with ANSI/OSC sequences is printed
        // without them, in plain and in colour output alike.
        let evil = "Weir\u{1b}]0;pwned\u{7} report\u{1b}[2J\u{9b}31m\u{7}";
        let lines = wrap(evil, 80, "");
        assert_eq!(lines, vec!["Weir report".to_string()]);
        let mut b = crate::sample::sample_claim_brief();
        b.title = evil.to_string();
        if let Some(s) = b.summary.first_mut() {
            s.text = format!("{evil} says so.");
        }
        if let Some(s) = b.sources.first_mut() {
            s.title = evil.to_string();
            s.location = format!("/tmp/{evil}.md");
        }
        for color in [false, true] {
            let out = render_terminal(&b, 80, color);
            for bad in ["pwned", "\u{1b}]", "\u{1b}[2J", "\u{9b}", "\u{7}"] {
                assert!(!out.contains(bad), "{bad:?} in {out:?}");
            }
            if !color {
                assert!(!out.contains('\u{1b}'));
            }
        }
    }

    #[test]
    fn wrapping_respects_width() {
        let lines = wrap(&"word ".repeat(50), 40, "  ");
        assert!(lines.iter().all(|l| l.chars().count() <= 40));
        assert!(lines.iter().all(|l| l.starts_with("  ")));
    }
}
