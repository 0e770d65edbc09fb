//! Probes and metrics (`/healthz`, `/readyz`, `/metrics`), and checks through the shared
//! job queue of a PostgreSQL store (needs `VERITY_TEST_PG`; skips without it).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{config, story_dir, TestServer};
use serde_json::{json, Value};
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_server::WorkerConfig;
use verity_types::NoProgress;

async fn text(s: &TestServer, path: &str) -> (u16, String) {
    let r = s.client.get(s.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Poll a check until its status is final.
async fn wait_done(s: &TestServer, id: &str) -> Value {
    for _ in 0..600 {
        let (_, v) = s.get(&format!("/api/checks/{id}")).await;
        if v["status"] == "done" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("check {id} never finished");
}

#[tokio::test]
async fn probes_and_metrics_on_a_single_node() {
    let s = TestServer::start(config()).await;
    assert_eq!(text(&s, "/healthz").await, (200, "ok\n".to_string()));
    let (status, ready) = s.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        (ready["ready"].clone(), ready["lag"].clone()),
        (json!(true), json!(0))
    );
    let (status, accepted) = s
        .post_json(
            "/api/checks",
            &json!({"claim": "The Vellan water utility replaced lead pipes."}),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap();
    assert_eq!(wait_done(&s, id).await["status"], "done");
    // This server runs its checks itself: there is no shared queue to cancel in.
    let (status, err) = s
        .post_json(&format!("/api/checks/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(
        (status, err["error"]["code"].clone()),
        (409, json!("no_shared_queue"))
    );
    let (status, m) = text(&s, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "verity_jobs_queued 0",
        "verity_jobs_running 0",
        "verity_index_lag_changes 0",
        "verity_jobs_total{outcome=\"done\"} 1",
        "verity_job_latency_seconds_count 1",
        "verity_http_errors_total 0",
    ] {
        assert!(m.contains(line), "{line} missing from\n{m}");
    }
    assert!(
        m.contains("# TYPE verity_job_latency_seconds histogram"),
        "{m}"
    );
    // This request's predecessors were counted: at least the 409 and the 202.
    assert!(
        !m.contains("verity_http_requests_total{class=\"4xx\"} 0"),
        "{m}"
    );
    s.stop().await;
}

fn pg_library(url: &str, dir: &tempfile::TempDir) -> Library {
    let lib = Library::open(LibraryOptions {
        models: ModelsMode::Off,
        store: Some(url.to_string()),
        ..LibraryOptions::new(dir.path().join("data"))
    })
    .unwrap();
    let opts = IngestOptions {
        embed: false,
        ..IngestOptions::default()
    };
    lib.ingest(&[story_dir().display().to_string()], &opts, &NoProgress)
        .unwrap();
    lib
}

async fn start_shared(url: String, cfg: verity_server::ServerConfig) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let (dir, lib) = tokio::task::spawn_blocking(move || {
        let lib = pg_library(&url, &dir);
        (dir, lib)
    })
    .await
    .unwrap();
    TestServer::start_with(dir, lib, cfg).await
}

#[tokio::test]
async fn on_postgres_checks_go_through_the_shared_queue() {
    let Some(db) = verity_engine::testing::fresh_pg("server_shared_queue") else {
        return;
    };
    let cfg = verity_server::ServerConfig {
        run_worker: Some(WorkerConfig::default()),
        ..config()
    };
    let s = start_shared(db.url.clone(), cfg).await;
    let (status, accepted) = s
        .post_json(
            "/api/checks",
            &json!({"claim": "The Vellan water utility replaced lead pipes."}),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let done = wait_done(&s, accepted["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(done["job"]["attempts"], 1, "{done:#}");
    assert!(done["job"]["worker"].as_str().unwrap().contains(':'));
    let (_, ready) = s.get("/readyz").await;
    assert_eq!(ready["ready"], true, "{ready}");
    assert!(ready["last_change"].as_i64().unwrap() >= 47, "{ready}");
    s.stop().await;
}

#[tokio::test]
async fn a_node_without_workers_queues_cancels_and_pushes_back() {
    let Some(db) = verity_engine::testing::fresh_pg("server_shared_cancel") else {
        return;
    };
    let cfg = verity_server::ServerConfig {
        queue_capacity: 1,
        ..config()
    };
    let s = start_shared(db.url.clone(), cfg).await;
    let claim = json!({"claim": "The Vellan water utility replaced lead pipes."});
    let (status, first) = s.post_json("/api/checks", &claim).await;
    assert_eq!(status, 202, "{first}");
    // Nobody runs it: the shared queue holds it, and a second one waits for room.
    let (status, full) = s.post_json("/api/checks", &claim).await;
    assert_eq!(
        (status, full["error"]["code"].clone()),
        (429, json!("queue_full"))
    );
    let (_, health) = s.get("/api/health").await;
    assert_eq!(health["queue"]["queued"], 1, "{health}");
    let id = first["id"].as_str().unwrap();
    // A stream of its events follows the store, and ends when it is cancelled.
    let events = s
        .client
        .get(s.url(&format!("/api/checks/{id}/events")))
        .send();
    let events = tokio::spawn(async move { events.await.unwrap().text().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, cancelled) = s
        .post_json(&format!("/api/checks/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "failed");
    assert_eq!(cancelled["error"], "cancelled");
    assert_eq!(cancelled["job"]["state"], "cancelled");
    let stream = tokio::time::timeout(Duration::from_secs(20), events)
        .await
        .expect("the stream ends after the final event")
        .unwrap();
    assert!(stream.contains("event: status"), "{stream}");
    assert!(stream.contains("\"status\":\"queued\""), "{stream}");
    assert!(stream.contains("event: failed"), "{stream}");
    assert!(stream.contains("cancelled"), "{stream}");
    let (status, _) = s.post_json("/api/checks", &claim).await;
    assert_eq!(status, 202, "room again once the first is cancelled");
    s.stop().await;
}

/// Poll an ingest job until it has ended.
async fn wait_ingest(s: &TestServer, id: &str) -> Value {
    for _ in 0..600 {
        let (status, v) = s.get(&format!("/api/sources/jobs/{id}")).await;
        assert_eq!(status, 200, "{v}");
        if matches!(
            v["job"]["state"].as_str(),
            Some("done" | "failed" | "cancelled")
        ) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ingest job {id} never ended");
}

#[tokio::test]
async fn on_postgres_uploads_and_urls_are_queued_as_ingest_jobs() {
    let Some(db) = verity_engine::testing::fresh_pg("server_ingest_jobs") else {
        return;
    };
    let cfg = verity_server::ServerConfig {
        run_worker: Some(WorkerConfig::default()),
        queue_capacity: 2,
        ..config()
    };
    let s = start_shared(db.url.clone(), cfg).await;
    let text = "# Ostmere lock\n\nThe Ostmere lock keeper Tamsin Bryde logged 212 boats in 2024.\n";
    let (status, accepted) = s.upload(text.as_bytes().to_vec(), "ostmere.md").await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap();
    assert!(id.starts_with("ingest-"), "{accepted}");
    assert_eq!(accepted["status_url"], format!("/api/sources/jobs/{id}"));
    let done = wait_ingest(&s, id).await;
    assert_eq!(done["job"]["state"], "done", "{done:#}");
    assert_eq!(done["report"]["added"], 1, "{done:#}");
    assert_eq!(done["job"]["progress"]["done"], 1, "{done:#}");
    // The same bytes again: stored once.
    let (_, again) = s.upload(text.as_bytes().to_vec(), "copy.md").await;
    let again = wait_ingest(&s, again["id"].as_str().unwrap()).await;
    assert_eq!(
        (
            again["report"]["added"].clone(),
            again["report"]["unchanged"].clone()
        ),
        (json!(0), json!(1))
    );
    // A private URL is queued, and its job reports the refusal.
    let (status, url_job) = s
        .post_json("/api/sources", &json!({"url": "http://127.0.0.1:9/x"}))
        .await;
    assert_eq!(status, 202, "{url_job}");
    let url_done = wait_ingest(&s, url_job["id"].as_str().unwrap()).await;
    assert_eq!(url_done["report"]["added"], 0, "{url_done:#}");
    assert_eq!(
        url_done["report"]["failed"][0]["reason"], "refused_private",
        "{url_done:#}"
    );
    let (status, missing) = s.get("/api/sources/jobs/ingest-nope").await;
    assert_eq!(
        (status, missing["error"]["code"].clone()),
        (404, json!("job_not_found"))
    );
    let (status, _) = s
        .post_json("/api/sources/jobs/ingest-nope/cancel", &json!({}))
        .await;
    assert_eq!(status, 404);
    s.stop().await;
}

#[tokio::test]
async fn a_queued_ingest_can_be_cancelled_and_a_full_queue_pushes_back() {
    let Some(db) = verity_engine::testing::fresh_pg("server_ingest_cancel") else {
        return;
    };
    let cfg = verity_server::ServerConfig {
        queue_capacity: 1,
        ..config()
    };
    // No workers: the job waits.
    let s = start_shared(db.url.clone(), cfg).await;
    let (status, first) = s.upload(b"Harl Fen ferry.".to_vec(), "a.txt").await;
    assert_eq!(status, 202, "{first}");
    let (status, full) = s.upload(b"Harl Fen bridge.".to_vec(), "b.txt").await;
    assert_eq!(
        (status, full["error"]["code"].clone()),
        (429, json!("queue_full"))
    );
    let id = first["id"].as_str().unwrap();
    let (status, cancelled) = s
        .post_json(&format!("/api/sources/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["job"]["state"], "cancelled", "{cancelled}");
    assert!(cancelled["report"].is_null());
    let (status, _) = s.upload(b"Harl Fen bridge.".to_vec(), "b.txt").await;
    assert_eq!(status, 202, "room again once the first is cancelled");
    s.stop().await;
}
