//! Human-readable and JSON output for the library commands.

use console::style;
use verity_engine::IngestReport;
use verity_engine::{InstalledModel, ModelDir};
use verity_types::{char_to_byte, terminal_safe, SearchHit, SearchHitJson, SearchMode, Source};

pub fn ingest_report(r: &IngestReport) {
    println!(
        "{} added {}, unchanged {}, near-duplicates linked {}, failed {}, skipped {}",
        style("ingest:").bold(),
        r.added,
        r.unchanged,
        r.duplicates,
        r.failed.len(),
        r.skipped.len()
    );
    // With embedding, the model sets the pace: passages a second says more than MB/s.
    let rate = if r.embedded > 0 && r.seconds > 0.0 {
        format!("{:.1} passages/s", r.passages as f64 / r.seconds)
    } else {
        format!("{:.1} MB/s", r.mb_per_s())
    };
    println!(
        "        {} passages, {:.1} MB of text in {:.1}s ({rate}){}",
        r.passages,
        r.bytes as f64 / 1e6,
        r.seconds,
        if r.embedded > 0 {
            format!(", {} passages embedded", r.embedded)
        } else {
            String::new()
        }
    );
    // File names and messages quote the inputs: print them without escapes.
    for (copy, orig) in &r.duplicate_links {
        println!(
            "  {} {} is a copy of {}",
            style("linked").yellow(),
            terminal_safe(copy),
            terminal_safe(orig)
        );
    }
    for f in &r.failed {
        println!("  {} {}", style("failed").red(), terminal_safe(&f.message));
    }
    for f in &r.skipped {
        println!(
            "  {} {}: {}",
            style("skipped").dim(),
            terminal_safe(&f.location),
            terminal_safe(&f.message)
        );
    }
}

fn location(s: &Source) -> &str {
    s.meta.url.as_deref().unwrap_or(&s.location)
}

/// Passage text with highlighted ranges in bold, escape sequences and control
/// characters removed (piece by piece, so the ranges' offsets still hold).
fn highlighted(text: &str, ranges: &[(u64, u64)]) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 8);
    let mut last = 0usize;
    for (s, e) in ranges {
        let (Some(bs), Some(be)) = (char_to_byte(text, *s), char_to_byte(text, *e)) else {
            continue;
        };
        if bs < last {
            continue;
        }
        out.push_str(&terminal_safe(&text[last..bs]));
        out.push_str(
            &style(terminal_safe(&text[bs..be]))
                .bold()
                .yellow()
                .to_string(),
        );
        last = be;
    }
    out.push_str(&terminal_safe(&text[last..]));
    out
}

pub fn hits(hits: &[SearchHit], mode: SearchMode) {
    if hits.is_empty() {
        println!("No passages matched.");
        return;
    }
    let width = console::Term::stdout().size().1.clamp(40, 110) as usize;
    for (i, h) in hits.iter().enumerate() {
        let s = &h.source;
        let title = terminal_safe(s.meta.title.as_deref().unwrap_or("(untitled)"));
        println!(
            "{} {}  {}",
            style(format!("[{}]", i + 1)).cyan().bold(),
            style(title).bold(),
            style(format!("score {:.3} ({})", h.score, mode.as_str())).dim()
        );
        let mut meta = Vec::new();
        if let Some(p) = &s.meta.publisher {
            meta.push(p.clone());
        }
        if let Some(d) = s.meta.published {
            meta.push(d.to_string());
        }
        meta.push(
            s.meta
                .kind
                .map(|k| k.as_str())
                .unwrap_or("other")
                .to_string(),
        );
        println!("    {}", style(terminal_safe(&meta.join(" · "))).dim());
        println!(
            "    {}  {}",
            style(terminal_safe(location(s))).underlined(),
            style(format!("chars {}..{}", h.passage.start, h.passage.end)).dim()
        );
        let body = highlighted(&h.passage.text, &h.highlights);
        for line in textwrap::wrap(&body, width.saturating_sub(4)) {
            println!("    {line}");
        }
        if let Some(a) = &s.meta.attribution {
            println!("    {}", style(terminal_safe(a)).dim().italic());
        }
        println!();
    }
}

/// The hits as JSON: the same shape as the API's `GET /api/search`.
pub fn hits_json(hits: &[SearchHit]) -> Vec<SearchHitJson> {
    hits.iter().map(SearchHitJson::from).collect()
}

pub fn sources(list: &[Source]) {
    if list.is_empty() {
        println!("The library is empty: add sources with `verity ingest PATH`.");
        return;
    }
    for s in list {
        let date = s
            .meta
            .published
            .map(|d| d.to_string())
            .unwrap_or_else(|| "—".into());
        println!(
            "{}  {:10}  {:9}  {}",
            style(&s.id).cyan(),
            date,
            s.meta.kind.map(|k| k.as_str()).unwrap_or("other"),
            style(terminal_safe(
                s.meta.title.as_deref().unwrap_or("(untitled)")
            ))
            .bold()
        );
        let mut line = format!(
            "                  {} · {} · {} passages",
            s.meta.publisher.as_deref().unwrap_or("unknown publisher"),
            location(s),
            s.passage_count
        );
        if let Some(d) = &s.duplicate_of {
            line.push_str(&format!(" · copy of {d}"));
        }
        println!("{}", style(terminal_safe(&line)).dim());
    }
    println!("{} sources", list.len());
}

pub fn models(dir: &ModelDir, list: &[InstalledModel]) {
    println!("models directory: {}", dir.root().display());
    if list.is_empty() {
        println!(
            "no models installed; install them with `{}`",
            dir.install_command()
        );
    }
    for m in list {
        let check = if m.checksum.matches() {
            style("sha256 ok".to_string()).green()
        } else {
            style(format!("{:?}", m.checksum)).yellow()
        };
        println!(
            "{}  {}  {:.1} MB  {}",
            style(&m.name).bold(),
            m.version.as_deref().unwrap_or("unversioned"),
            m.size_bytes as f64 / 1e6,
            check
        );
        println!("    path: {}", m.path.display());
        if let Some(s) = &m.sha256 {
            println!("    sha256: {s}");
        }
        if let Some(src) = &m.source {
            println!("    from: {src}");
        }
        println!("    enables: {}", m.features.join(", "));
    }
    for e in dir.missing() {
        println!("{} {e}", style("missing:").yellow());
    }
}
