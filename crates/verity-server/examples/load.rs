//! A bounded load test on loopback: N concurrent clients against `GET /api/search` and
//! `GET /api/checks/{id}` for S seconds, then requests/s, p50/p99 latency and errors.
//!
//! ```text
//! cargo run --release -p verity-server --example load -- --clients 50 --seconds 60
//! cargo run --release -p verity-server --example load -- --url http://127.0.0.1:8080
//! ```
//!
//! Without `--url` it starts its own server on 127.0.0.1 over a temporary library holding
//! the story corpus (BM25 only). `--url` must point at a loopback address.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_server::{AppState, ServerConfig};
use verity_types::NoProgress;

const QUERIES: &[&str] = &[
    "lead service lines replaced",
    "cost of the programme",
    "audit office findings",
    "state funding grant",
    "water quality report",
    "fountain results Eastmoor",
    "council vote split",
    "landlord ordinance",
];

struct Args {
    clients: usize,
    seconds: u64,
    url: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        clients: 50,
        seconds: 60,
        url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--clients" => a.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--url" => a.url = Some(value()?),
            other => return Err(format!("unknown argument `{other}`; use --clients N --seconds S [--url http://127.0.0.1:PORT]")),
        }
    }
    if a.clients == 0 || a.clients > 1000 || a.seconds == 0 || a.seconds > 600 {
        return Err("--clients must be 1..=1000 and --seconds 1..=600".into());
    }
    if let Some(u) = &a.url {
        let host = u
            .strip_prefix("http://")
            .and_then(|r| r.split(['/', ':']).next())
            .unwrap_or_default();
        if !matches!(host, "127.0.0.1" | "localhost" | "[") {
            return Err(format!(
                "`{u}` is not a loopback http URL; this load test only runs on loopback"
            ));
        }
    }
    Ok(a)
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    search: u64,
    status: u64,
}

#[tokio::main]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    // Own server unless pointed at one.
    let mut _keep = None;
    let base = match &a.url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            let lib = tokio::task::spawn_blocking(move || {
                let lib = Library::open(LibraryOptions {
                    data_dir: data,
                    models: ModelsMode::Off,
                    read_only: false,
                    models_dir: None,
                    store: None,
                })
                .unwrap();
                let story = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../tests/fixtures/story");
                let opts = IngestOptions {
                    embed: false,
                    ..IngestOptions::default()
                };
                lib.ingest(&[story.display().to_string()], &opts, &NoProgress)
                    .unwrap();
                lib
            })
            .await
            .unwrap();
            let cfg = ServerConfig {
                addr: "127.0.0.1:0".parse().unwrap(),
                ..ServerConfig::default()
            };
            let listener = verity_server::bind(&cfg).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let state = AppState::new(Arc::new(lib), cfg).unwrap();
            tokio::spawn(verity_server::serve_on(
                listener,
                state,
                std::future::pending(),
            ));
            _keep = Some(dir);
            format!("http://{addr}")
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.clients)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // A few checks to poll.
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = client
            .post(format!("{base}/api/checks"))
            .json(&serde_json::json!({"question": format!("What did the audit find about the pipe count ({i})?")}))
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let ids = Arc::new(ids);

    eprintln!(
        "load: {} clients for {} s against {base}",
        a.clients, a.seconds
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let client = client.clone();
        let base = base.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut i = c;
            while Instant::now() < deadline {
                let search = i % 2 == 0;
                let url = if search {
                    format!(
                        "{base}/api/search?q={}&limit=10",
                        QUERIES[(i / 2) % QUERIES.len()].replace(' ', "%20")
                    )
                } else {
                    format!("{base}/api/checks/{}", ids[i % ids.len()])
                };
                let t0 = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                t.latencies_us.push(t0.elapsed().as_micros() as u64);
                if !ok {
                    t.errors += 1;
                }
                if search {
                    t.search += 1;
                } else {
                    t.status += 1;
                }
                i += 1;
            }
            t
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.unwrap();
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
        all.search += t.search;
        all.status += t.status;
    }
    let secs = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        let v = &all.latencies_us;
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i] as f64 / 1000.0
    };
    let n = all.latencies_us.len();
    println!("clients        {}", a.clients);
    println!("duration       {secs:.1} s");
    println!(
        "requests       {n} (search {}, check status {})",
        all.search, all.status
    );
    println!("requests/s     {:.0}", n as f64 / secs);
    println!("latency p50    {:.2} ms", pct(0.50));
    println!("latency p99    {:.2} ms", pct(0.99));
    println!("latency max    {:.2} ms", pct(1.0));
    println!("errors         {}", all.errors);
    if all.errors > 0 {
        std::process::exit(1);
    }
}
