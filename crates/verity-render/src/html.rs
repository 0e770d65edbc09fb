//! A standalone HTML page: inline CSS, print-friendly, citations that jump to the exact
//! passage in the sources list with the cited span highlighted.

use std::fmt::Write as _;

use verity_types::{Brief, Mode, Sentence, Verdict};

use crate::{
    citation_numbers, currency_line, lean_words, long_date, passage_pieces, refused_lines,
    source_byline, verification_line,
};

/// Escape text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
:root{--ink:#1d1d1f;--muted:#5f6368;--line:#d9dce1;--accent:#1a5fb4;--mark:#fff3a3}\
*{box-sizing:border-box}\
body{font:16px/1.55 Georgia,'Times New Roman',serif;color:var(--ink);max-width:46rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.6rem;line-height:1.25;margin:0 0 .5rem}\
h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}\
h3{font-size:1.05rem;margin:1.3rem 0 .4rem}\
.meta,.notes,.small{color:var(--muted);font-size:.92rem}\
.disclaimer{font-style:italic}\
.verdict{border:2px solid var(--line);border-radius:6px;padding:.7rem 1rem;margin:1rem 0}\
.verdict .label{font-weight:bold;font-size:1.15rem}\
.v-supported,.v-mostly_supported{border-color:#2e7d32}\
.v-mixed{border-color:#b26a00}\
.v-mostly_unsupported,.v-contradicted{border-color:#c62828}\
.v-not_enough_evidence{border-color:#607d8b}\
a.cite{color:var(--accent);text-decoration:none;font-size:.85em;vertical-align:super;margin-left:.1em}\
.flagged{background:#fde7e9}\
.flag{color:#c62828;font-size:.85em}\
ol.sources{padding-left:1.4rem}\
ol.sources li{margin-bottom:1rem}\
blockquote{margin:.4rem 0 .6rem;padding:.4rem .8rem;border-left:3px solid var(--line);font-size:.93rem;background:#fafafa}\
blockquote:target{border-left-color:var(--accent);background:#eef4fc}\
mark{background:var(--mark)}\
.offsets{color:var(--muted);font-size:.82rem;font-family:ui-monospace,Menlo,monospace}\
@media print{body{margin:0;max-width:none;font-size:11pt}a.cite{color:inherit}\
blockquote{break-inside:avoid;background:none}h2,h3{break-after:avoid}.verdict{break-inside:avoid}}";

fn cites(s: &Sentence) -> String {
    let mut out = String::new();
    for n in citation_numbers(s) {
        // Link to the exact passage of the first citation of this source.
        let target = s
            .citations
            .iter()
            .find(|c| c.n == n)
            .map(|c| format!("s{n}-p{}", c.passage_id.ordinal))
            .unwrap_or_else(|| format!("s{n}"));
        let _ = write!(out, "<a class=\"cite\" href=\"#{target}\">[{n}]</a>");
    }
    out
}

fn sentence(s: &Sentence) -> String {
    let mut out = String::new();
    if s.flagged {
        out.push_str("<span class=\"flagged\">");
    }
    out.push_str(&html_escape(&s.text));
    if let Some(a) = &s.attribution {
        let _ = write!(out, " <span class=\"small\">({})</span>", html_escape(a));
    }
    out.push_str(&cites(s));
    if s.flagged {
        let _ = write!(
            out,
            " <span class=\"flag\">unsupported (support {:.2})</span></span>",
            s.support.unwrap_or(0.0)
        );
    }
    out
}

/// Renders a brief as a standalone HTML page.
pub fn render_html(b: &Brief) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"Verity\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<article class=\"brief\">\n",
        html_escape(&b.title),
        CSS
    );
    let _ = writeln!(o, "<h1>{}</h1>", html_escape(&b.title));
    let _ = writeln!(
        o,
        "<p class=\"meta\">{}</p>",
        html_escape(&currency_line(b))
    );
    let _ = writeln!(
        o,
        "<p class=\"meta disclaimer\">{}</p>",
        html_escape(&b.disclaimer)
    );
    if !b.notes.is_empty() {
        let _ = writeln!(o, "<ul class=\"notes\">");
        for n in &b.notes {
            let _ = writeln!(o, "<li>{}</li>", html_escape(n));
        }
        let _ = writeln!(o, "</ul>");
    }

    if let Some(v) = &b.verdict {
        let class = serde_json::to_value(v.verdict)
            .ok()
            .and_then(|x| x.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<section class=\"verdict v-{}\" id=\"verdict\">\n<h2>Verdict</h2>\n<p><span class=\"label\">{}</span> <span class=\"small\">confidence {:.2}</span></p>\n<p>{}</p>",
            html_escape(&class),
            html_escape(&v.label),
            v.confidence,
            html_escape(&v.conclusion)
        );
        let links = |ns: &[usize]| {
            ns.iter()
                .map(|n| format!("<a class=\"cite\" href=\"#s{n}\">[{n}]</a>"))
                .collect::<String>()
        };
        if !v.supporting.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"small\">Strongest support: {}</p>",
                links(&v.supporting)
            );
        }
        if !v.contradicting.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"small\">Strongest contradiction: {}</p>",
                links(&v.contradicting)
            );
        }
        for m in &v.mismatches {
            let _ = writeln!(
                o,
                "<p class=\"small mismatch\">Mismatch: the claim says {}; {} says {}</p>",
                html_escape(&m.claim),
                links(&[m.source]),
                html_escape(&m.evidence)
            );
        }
        if !v.parts.is_empty() {
            let _ = writeln!(o, "<ol class=\"parts small\">");
            for p in &v.parts {
                let _ = writeln!(
                    o,
                    "<li>{} — <strong>{}</strong> {}{}</li>",
                    html_escape(&p.text),
                    html_escape(&p.label),
                    links(&p.supporting),
                    links(&p.contradicting)
                );
            }
            let _ = writeln!(o, "</ol>");
        }
        if v.verdict == Verdict::NotEnoughEvidence {
            let _ = writeln!(
                o,
                "<p class=\"small\">Not enough evidence means the indexed sources do not settle the claim either way.</p>"
            );
        }
        let _ = writeln!(o, "</section>");
    }

    let _ = writeln!(o, "<section id=\"summary\">\n<h2>Executive summary</h2>");
    if b.summary.is_empty() {
        let _ = writeln!(
            o,
            "<p>No sentence in the indexed sources could be quoted for this.</p>"
        );
    } else {
        let text: Vec<String> = b.summary.iter().map(sentence).collect();
        let _ = writeln!(o, "<p>{}</p>", text.join(" "));
    }
    let _ = writeln!(o, "</section>");

    if !b.findings.is_empty() {
        let _ = writeln!(o, "<section id=\"findings\">\n<h2>Findings</h2>");
        for f in &b.findings {
            let text: Vec<String> = f.sentences.iter().map(sentence).collect();
            let _ = writeln!(
                o,
                "<h3 id=\"finding-{n}\">{n}. {}</h3>\n<p>{}</p>",
                html_escape(&f.heading),
                text.join(" "),
                n = f.number
            );
        }
        let _ = writeln!(o, "</section>");
    }

    let _ = writeln!(
        o,
        "<section id=\"angles\">\n<h2>Sources and their angles</h2>\n<ul>"
    );
    for g in &b.angles.groups {
        let nums: String = g
            .sources
            .iter()
            .map(|n| format!("<a class=\"cite\" href=\"#s{n}\">[{n}]</a>"))
            .collect();
        let pubs = if g.publishers.is_empty() {
            String::new()
        } else {
            format!(" ({})", html_escape(&g.publishers.join("; ")))
        };
        let _ = writeln!(
            o,
            "<li><strong>{}</strong>{pubs}{nums}: {} ({} supporting, {} contradicting, {} context).</li>",
            html_escape(&g.label),
            html_escape(lean_words(g.lean, b.mode)),
            g.supports,
            g.contradicts,
            g.neutral
        );
    }
    let _ = writeln!(o, "</ul>");
    if b.angles.divergences.is_empty() {
        let _ = writeln!(
            o,
            "<p>Where framings diverge: no difference in stance was found among the cited sources.</p>"
        );
    } else {
        let _ = writeln!(o, "<p>Where framings diverge:</p>\n<ul>");
        for d in &b.angles.divergences {
            let _ = writeln!(o, "<li>{}</li>", html_escape(&d.text));
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(o, "</section>");

    let _ = writeln!(o, "<section id=\"gaps\">\n<h2>Evidence gaps</h2>");
    if b.gaps.is_empty() {
        let _ = writeln!(
            o,
            "<p>Every aspect of the {} was touched by at least one indexed source.</p>",
            match b.mode {
                Mode::Check => "claim",
                Mode::Ask => "question",
            }
        );
    } else {
        let _ = writeln!(o, "<ul>");
        for g in &b.gaps {
            let _ = writeln!(
                o,
                "<li>{} <span class=\"small\">(second retrieval pass: {} queries, {} search, {} passages examined)</span></li>",
                html_escape(&g.statement),
                g.second_pass_queries.len(),
                html_escape(&g.second_pass_modes.join(" and ")),
                g.second_pass_candidates
            );
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(o, "</section>");

    let _ = writeln!(
        o,
        "<section id=\"sources\">\n<h2>Sources</h2>\n<ol class=\"sources\">"
    );
    for s in &b.sources {
        let loc = html_escape(&s.location);
        let location = if s.location.starts_with("http://") || s.location.starts_with("https://") {
            format!("<a href=\"{loc}\">{loc}</a>")
        } else {
            format!("<code>{loc}</code>")
        };
        let _ = writeln!(
            o,
            "<li id=\"s{n}\" value=\"{n}\"><strong>{}</strong><br><span class=\"small\">{}</span><br><span class=\"small\">{location}</span>",
            html_escape(&s.title),
            html_escape(&source_byline(s)),
            n = s.n
        );
        if let Some(a) = &s.attribution {
            let _ = writeln!(o, "<br><span class=\"small\">{}</span>", html_escape(a));
        }
        for p in &s.passages {
            let cited: Vec<String> = p.cited.iter().map(|(a, b)| format!("{a}–{b}")).collect();
            let mut body = String::new();
            for (text, is_cited) in passage_pieces(p) {
                if is_cited {
                    let _ = write!(body, "<mark>{}</mark>", html_escape(&text));
                } else {
                    body.push_str(&html_escape(&text));
                }
            }
            let _ = writeln!(
                o,
                "<blockquote id=\"s{n}-p{ord}\">{body}</blockquote>\n<div class=\"offsets\">passage {} · characters {}–{} · cited {}</div>",
                html_escape(&p.id.to_string()),
                p.start,
                p.end,
                cited.join(", "),
                n = s.n,
                ord = p.id.ordinal
            );
        }
        let _ = writeln!(o, "</li>");
    }
    let _ = writeln!(o, "</ol>\n</section>");

    if !b.follow_ups.is_empty() {
        let _ = writeln!(
            o,
            "<section id=\"deeper\">\n<h2>Want to dive deeper?</h2>\n<ul>"
        );
        for q in &b.follow_ups {
            let _ = writeln!(o, "<li>{}</li>", html_escape(q));
        }
        let _ = writeln!(o, "</ul>\n</section>");
    }

    let _ = writeln!(
        o,
        "<footer class=\"small\">\n<p>{}</p>",
        html_escape(&verification_line(b))
    );
    let refused = refused_lines(b);
    if !refused.is_empty() {
        let _ = writeln!(o, "<ul class=\"refused\">");
        for line in &refused {
            let _ = writeln!(o, "<li>{}</li>", html_escape(line));
        }
        let _ = writeln!(o, "</ul>");
    }
    if !b.verification.dropped.is_empty() {
        let _ = writeln!(o, "<ul>");
        for d in &b.verification.dropped {
            let _ = writeln!(
                o,
                "<li>Left out ({}, support {:.2}): {}</li>",
                html_escape(&d.section),
                d.support,
                html_escape(&d.text)
            );
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(
        o,
        "<p>Brief made by Verity on {}.</p>\n</footer>\n</article>\n</body>\n</html>",
        html_escape(&long_date(b.checked_on))
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_source_text_and_marks_cited_spans() {
        let mut b = crate::sample::sample_claim_brief();
        b.summary[0].text = "<script>alert('x')</script> & more".into();
        let html = render_html(&b);
        assert!(!html.contains("<script>"), "unescaped script tag");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(html.contains("&lt;after&gt;"));
        assert!(!html.contains("<after>"));
        assert!(html.contains("<mark>"));
        assert!(html.contains("href=\"#s1-p0\""));
        assert!(html.contains("id=\"s1-p0\""));
        assert!(html.contains("@media print"));
        assert!(html.starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            html_escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
