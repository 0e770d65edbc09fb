//! Every endpoint of `verity serve`, over HTTP on 127.0.0.1, against the story corpus.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{json, Value};
use verity_server::ServerConfig;

#[tokio::test]
async fn health_and_openapi() {
    let s = TestServer::start(config()).await;
    let (st, h) = s.get("/api/health").await;
    assert_eq!(st, 200);
    assert_eq!(h["status"], "ok");
    assert!(h["sources"].as_u64().unwrap() > 10);
    assert_eq!(h["queue"]["capacity"], 16);
    assert_eq!(h["queue"]["workers"], 1);
    assert_eq!(h["vectors"], false);

    let (st, doc) = s.get("/api/openapi.json").await;
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (p, m) in [
        ("/api/health", "get"),
        ("/api/search", "get"),
        ("/api/sources", "get"),
        ("/api/sources", "post"),
        ("/api/sources/{id}", "get"),
        ("/api/sources/{id}", "delete"),
        ("/api/checks", "get"),
        ("/api/checks", "post"),
        ("/api/checks/{id}", "get"),
        ("/api/checks/{id}/events", "get"),
        ("/api/checks/{id}/diff", "get"),
        ("/api/checks/{id}/recheck", "post"),
    ] {
        assert!(paths[p][m].is_object(), "{m} {p} missing from openapi.json");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn the_page_is_served_from_the_binary() {
    let s = TestServer::start(config()).await;
    for (path, ctype) in [
        ("/", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(ctype));
        assert!(r.headers().contains_key("content-security-policy"));
        assert!(!r.text().await.unwrap().is_empty());
    }
    s.stop().await;
}

#[tokio::test]
async fn search_returns_cli_fields_and_validates_parameters() {
    let s = TestServer::start(config()).await;
    let r = s
        .client
        .get(s.url("/api/search?q=lead%20service%20lines%20replaced&limit=5"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-verity-search-mode"], "bm25");
    let hits: Vec<Value> = r.json().await.unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5);
    let h = &hits[0];
    for k in [
        "passage_id",
        "source_id",
        "title",
        "publisher",
        "published",
        "kind",
        "url",
        "path",
        "text",
        "start",
        "end",
        "score",
        "highlights",
        "attribution",
        "duplicate_of",
    ] {
        assert!(h.get(k).is_some(), "hit lacks `{k}`: {h}");
    }
    assert_eq!(h.as_object().unwrap().len(), 15);

    // Filters narrow the hits.
    let (st, hits) = s.get("/api/search?q=lead&kind=audit&limit=20").await;
    assert_eq!(st, 200);
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["kind"] == "audit"));
    let (st, hits) = s.get("/api/search?q=lead&from=2025-01-01&limit=20").await;
    assert_eq!(st, 200);
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["published"].as_str().is_some_and(|d| d >= "2025-01-01")));

    for bad in [
        "/api/search",
        "/api/search?q=",
        "/api/search?q=x&limit=0",
        "/api/search?q=x&limit=abc",
        "/api/search?q=x&mode=fuzzy",
        "/api/search?q=x&kind=blog",
        "/api/search?q=x&from=last-week",
        "/api/search?q=x&mode=dense",
    ] {
        let (st, body) = s.get(bad).await;
        assert_eq!(st, 400, "{bad}: {body}");
        assert_eq!(code(&body), "invalid_request", "{bad}");
    }
    s.stop().await;
}

#[tokio::test]
async fn sources_list_get_upload_and_delete() {
    let cfg = config();
    let s = TestServer::start(cfg).await;
    let (st, list) = s.get("/api/sources").await;
    assert_eq!(st, 200);
    let list = list.as_array().unwrap().clone();
    let n = list.len();
    assert!(n > 10);
    let first = &list[0];
    for k in [
        "id",
        "location",
        "format",
        "meta",
        "ingested_at",
        "char_len",
        "passage_count",
        "duplicate_of",
    ] {
        assert!(first.get(k).is_some(), "source lacks `{k}`");
    }

    // Full text, by id and by prefix; a passage's offsets index into it.
    let id = first["id"].as_str().unwrap();
    let (st, detail) = s.get(&format!("/api/sources/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(detail["source"]["id"], id);
    let text = detail["text"].as_str().unwrap();
    assert_eq!(
        text.chars().count() as u64,
        first["char_len"].as_u64().unwrap()
    );
    let (st, by_prefix) = s.get(&format!("/api/sources/{}", &id[..6])).await;
    assert_eq!(st, 200);
    assert_eq!(by_prefix["source"]["id"], id);

    let (_, hits) = s.get("/api/search?q=fountain&limit=1").await;
    let hit = &hits[0];
    let (_, src) = s
        .get(&format!(
            "/api/sources/{}",
            hit["source_id"].as_str().unwrap()
        ))
        .await;
    let chars: Vec<char> = src["text"].as_str().unwrap().chars().collect();
    let (a, b) = (
        hit["start"].as_u64().unwrap() as usize,
        hit["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        chars[a..b].iter().collect::<String>(),
        hit["text"].as_str().unwrap()
    );

    let (st, body) = s.get("/api/sources/ffffffffffffffff").await;
    assert_eq!(st, 404);
    assert_eq!(code(&body), "source_not_found");

    // Upload (multipart), with a hostile file name.
    let note = "Kellbridge Harbour Board minutes. The board agreed on 3 May to dredge the \
        eastern channel of Kellbridge harbour before the autumn regatta, at a cost of \
        41,000 crowns met from the moorings fund.";
    let form = reqwest::multipart::Form::new()
        .text("attribution", "Fictional test note")
        .part(
            "file",
            reqwest::multipart::Part::bytes(note.as_bytes().to_vec())
                .file_name("../../evil name.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let r = s
        .client
        .post(s.url("/api/sources"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["added"], 1, "{report}");
    let (_, list) = s.get("/api/sources").await;
    assert_eq!(list.as_array().unwrap().len(), n + 1);
    let added = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["location"].as_str().unwrap().ends_with("evil_name.txt"))
        .expect("uploaded source listed under its sanitised name")
        .clone();
    let loc = std::path::PathBuf::from(added["location"].as_str().unwrap());
    assert!(
        loc.starts_with(s.dir.path().join("data").join("uploads")),
        "{loc:?}"
    );
    assert!(loc.exists());
    assert_eq!(added["meta"]["attribution"], "Fictional test note");
    let (_, hits) = s
        .get("/api/search?q=dredge%20eastern%20channel%20Kellbridge&limit=1")
        .await;
    assert_eq!(hits[0]["source_id"], added["id"]);

    // The same file again changes nothing.
    let (_, report) = s.upload(note.as_bytes().to_vec(), "again.txt").await;
    assert_eq!(report["unchanged"], 1, "{report}");

    // An upload of nothing readable is a 422 with the report.
    let (st, body) = s.upload(b"   \n".to_vec(), "blank.txt").await;
    assert_eq!(st, 422);
    assert_eq!(code(&body), "ingest_failed");
    assert_eq!(body["error"]["details"]["failed"][0]["reason"], "empty");

    // A multipart body without a file part.
    let form = reqwest::multipart::Form::new().text("attribution", "x");
    let r = s
        .client
        .post(s.url("/api/sources"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Delete it; then it is gone.
    let (st, body) = s
        .delete(&format!("/api/sources/{}", added["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["removed"]["id"], added["id"]);
    let (st, _) = s
        .get(&format!("/api/sources/{}", added["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, 404);
    let (st, body) = s
        .delete(&format!("/api/sources/{}", added["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, 404);
    assert_eq!(code(&body), "source_not_found");
    let (_, hits) = s
        .get("/api/search?q=dredge%20eastern%20channel%20Kellbridge&limit=3")
        .await;
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["source_id"] != added["id"]));
    s.stop().await;
}

#[tokio::test]
async fn urls_on_private_addresses_and_other_schemes_are_refused() {
    let s = TestServer::start(config()).await;
    for url in [
        "http://127.0.0.1:9/page",
        "http://10.1.2.3/x",
        "http://localhost:9/x",
    ] {
        let (st, body) = s.post_json("/api/sources", &json!({"url": url})).await;
        assert_eq!(st, 400, "{url}: {body}");
        assert_eq!(code(&body), "url_refused");
        assert_eq!(
            body["error"]["details"]["failed"][0]["reason"],
            "refused_private"
        );
    }
    let (st, body) = s
        .post_json("/api/sources", &json!({"url": "file:///etc/passwd"}))
        .await;
    assert_eq!(st, 400);
    assert_eq!(code(&body), "url_refused");
    let (st, body) = s
        .post_json("/api/sources", &json!({"link": "https://x.example"}))
        .await;
    assert_eq!(st, 400);
    assert_eq!(code(&body), "invalid_request");
    let r = s
        .client
        .post(s.url("/api/sources"))
        .header("content-type", "text/plain")
        .body("https://x.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        code(&r.json::<Value>().await.unwrap()),
        "unsupported_media_type"
    );
    s.stop().await;
}

#[tokio::test]
async fn malformed_requests_unknown_ids_and_routes() {
    let s = TestServer::start(config()).await;
    let r = s
        .client
        .post(s.url("/api/checks"))
        .header("content-type", "application/json")
        .body("{\"question\": \"unterminated")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "malformed_json");

    for body in [
        json!({}),
        json!({"question": "a", "claim": "b"}),
        json!({"question": "   "}),
        json!({"question": 7}),
        json!({"question": "x", "as_of": "soon"}),
        json!({"question": "x", "colour": "red"}),
        json!({"question": "x".repeat(2001)}),
    ] {
        let (st, b) = s.post_json("/api/checks", &body).await;
        assert_eq!(st, 400, "{body}: {b}");
        assert_eq!(code(&b), "invalid_request");
    }
    let r = s
        .client
        .post(s.url("/api/checks"))
        .body("{\"question\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415, "JSON without a content type");

    let (st, b) = s.get("/api/checks/nope").await;
    assert_eq!(st, 404);
    assert_eq!(code(&b), "check_not_found");
    // Every error says what to do next.
    assert!(
        b["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("GET /api/checks"),
        "{b}"
    );
    let (st, b) = s.get("/api/sources/zzzzzzzz").await;
    assert_eq!(st, 404);
    assert_eq!(code(&b), "source_not_found");
    assert!(
        b["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("verity sources"),
        "{b}"
    );
    let (_, b) = s.post_json("/api/checks", &json!({"claim": " "})).await;
    assert_eq!(b["error"]["message"], "the question or claim is empty");
    assert!(!b["error"]["hint"].as_str().unwrap().is_empty(), "{b}");
    let (st, b) = s.get("/api/checks/nope/events").await;
    assert_eq!(st, 404);
    assert_eq!(code(&b), "check_not_found");
    let (st, b) = s.get("/api/checks/nope/diff?against=other").await;
    assert_eq!(st, 404);
    assert_eq!(code(&b), "check_not_found");
    let (st, b) = s.get("/api/checks/nope/diff").await;
    assert_eq!(st, 400);
    assert_eq!(code(&b), "invalid_request");
    let (st, b) = s.get("/api/nothing-here").await;
    assert_eq!(st, 404);
    assert_eq!(code(&b), "not_found");
    let r = s.client.put(s.url("/api/checks")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        code(&r.json::<Value>().await.unwrap()),
        "method_not_allowed"
    );
    let (st, b) = s.get("/api/checks?limit=0").await;
    assert_eq!(st, 400);
    assert_eq!(code(&b), "invalid_request");
    let (st, b) = s.get("/api/checks?offset=-1").await;
    assert_eq!(st, 400);
    assert_eq!(code(&b), "invalid_request");
    s.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let cfg = ServerConfig {
        max_upload_bytes: 64 * 1024,
        ..config()
    };
    let s = TestServer::start(cfg).await;
    let big = "Kellbridge ferry timetable. ".repeat(10_000); // ~280 KB
    let (st, body) = s.upload(big.clone().into_bytes(), "big.txt").await;
    assert_eq!(st, 413);
    assert_eq!(code(&body), "payload_too_large");

    // Chunked (no Content-Length): the limit still holds while reading.
    let stream = futures_util_stream(big.clone().into_bytes());
    let r = s
        .client
        .post(s.url("/api/checks"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "payload_too_large");

    let (st, b) = s.post_json("/api/checks", &json!({"question": big})).await;
    assert_eq!(st, 413);
    assert_eq!(code(&b), "payload_too_large");
    s.stop().await;
}

fn futures_util_stream(
    bytes: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(chunks)
}

#[tokio::test]
async fn writes_need_the_token_when_one_is_set() {
    let cfg = ServerConfig {
        token: Some("s3cret-token".into()),
        ..config()
    };
    let s = TestServer::start(cfg).await;
    let (st, b) = s
        .post_json("/api/checks", &json!({"question": "Who pays?"}))
        .await;
    assert_eq!(st, 401);
    assert_eq!(code(&b), "missing_token");
    let r = s
        .client
        .post(s.url("/api/checks"))
        .bearer_auth("wrong")
        .json(&json!({"question": "Who pays?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "invalid_token");
    let (st, b) = s.delete("/api/sources/abcdabcd").await;
    assert_eq!(st, 401);
    assert_eq!(code(&b), "missing_token");
    let r = s
        .client
        .post(s.url("/api/checks"))
        .bearer_auth("s3cret-token")
        .json(&json!({"question": "Who pays?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // Reads stay open.
    let (st, _) = s.get("/api/sources").await;
    assert_eq!(st, 200);
    let (st, h) = s.get("/api/health").await;
    assert_eq!(st, 200);
    assert_eq!(h["token_required"], true);
    s.stop().await;
}

#[tokio::test]
async fn read_only_refuses_library_changes() {
    let cfg = ServerConfig {
        read_only: true,
        ..config()
    };
    let s = TestServer::start(cfg).await;
    let (st, b) = s
        .post_json("/api/sources", &json!({"url": "https://x.example/a"}))
        .await;
    assert_eq!(st, 403);
    assert_eq!(code(&b), "read_only");
    let (_, list) = s.get("/api/sources").await;
    let id = list[0]["id"].as_str().unwrap().to_string();
    let (st, b) = s.delete(&format!("/api/sources/{id}")).await;
    assert_eq!(st, 403);
    assert_eq!(code(&b), "read_only");
    let (st, _) = s.get(&format!("/api/sources/{id}")).await;
    assert_eq!(st, 200);
    // Asking is still allowed.
    let (st, _) = s
        .post_json("/api/checks", &json!({"question": "Who pays?"}))
        .await;
    assert_eq!(st, 202);
    s.stop().await;
}

#[tokio::test]
async fn a_full_queue_answers_429_with_retry_after() {
    let cfg = ServerConfig {
        queue_capacity: 1,
        workers: 1,
        retry_after_secs: 7,
        ..config()
    };
    let s = TestServer::start(cfg).await;
    s.state.pause_workers();
    let mut accepted = Vec::new();
    let mut refused = None;
    // One check may sit with the (paused) worker, one in the queue; the next is refused.
    for i in 0..4 {
        let r = s
            .client
            .post(s.url("/api/checks"))
            .json(&json!({"claim": format!("Claim number {i} about the pipes.")}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            202 => accepted.push(
                r.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            429 => {
                assert_eq!(r.headers()["retry-after"], "7");
                refused = Some(r.json::<Value>().await.unwrap());
                break;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let refused = refused.expect("the queue filled up");
    assert_eq!(code(&refused), "queue_full");
    assert!((1..=2).contains(&accepted.len()), "{accepted:?}");
    // Refused checks leave no history; accepted ones wait as `queued`.
    let (_, page) = s.get("/api/checks").await;
    assert_eq!(page["items"].as_array().unwrap().len(), accepted.len());
    for id in &accepted {
        let (_, c) = s.get(&format!("/api/checks/{id}")).await;
        assert_eq!(c["status"], "queued");
    }
    let (_, h) = s.get("/api/health").await;
    assert_eq!(h["queue"]["paused"], true);

    s.state.resume_workers();
    for id in &accepted {
        let c = wait_final(&s, id).await;
        assert_lifecycle_end(&c);
    }
    // Room again.
    let (st, _) = s
        .post_json("/api/checks", &json!({"claim": "One more."}))
        .await;
    assert_eq!(st, 202);
    s.stop().await;
}

fn assert_lifecycle_end(c: &Value) {
    assert_eq!(c["status"], "done", "{c}");
    assert!(c["error"].is_null());
    let b = &c["brief"];
    assert_eq!(b["format"], "verity.brief");
    assert_eq!(b["input"], c["input"]);
    assert!(b["disclaimer"].as_str().is_some_and(|d| !d.is_empty()));
}

#[tokio::test]
async fn a_check_moves_from_queued_to_running_to_its_end_with_events() {
    let s = TestServer::start(config()).await;
    s.state.pause_workers();
    let (st, acc) = s
        .post_json(
            "/api/checks",
            &json!({"question": "How much will the lead pipe programme cost?", "as_of": "2024-12-31", "show_unsupported": true}),
        )
        .await;
    assert_eq!(st, 202);
    assert_eq!(acc["status"], "queued");
    let id = acc["id"].as_str().unwrap().to_string();
    assert_eq!(acc["events_url"], format!("/api/checks/{id}/events"));
    let (_, c) = s.get(&format!("/api/checks/{id}")).await;
    assert_eq!(c["status"], "queued");
    assert_eq!(c["mode"], "ask");
    assert_eq!(c["as_of"], "2024-12-31");
    assert_eq!(c["show_unsupported"], true);
    assert_eq!(c["input"], "How much will the lead pipe programme cost?");

    // Subscribe while queued, then let it run.
    let resp = s
        .client
        .get(s.url(&format!("/api/checks/{id}/events")))
        .send()
        .await
        .unwrap();
    let reader = tokio::spawn(read_events(resp));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    s.state.resume_workers();
    let events = reader.await.unwrap();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "status");
    assert_eq!(events[0].1["status"], "queued");
    assert!(
        events
            .iter()
            .any(|(n, v)| n == "status" && v["status"] == "running"),
        "{names:?}"
    );
    assert!(names.contains(&"stage"), "{names:?}");
    let (last, v) = events.last().unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(last, "done", "{events:?}");
    let c = wait_final(&s, &id).await;
    assert_lifecycle_end(&c);
    assert_eq!(c["brief"]["as_of"], "2024-12-31");
    // Every citation points at an exact span of a stored source.
    let b = &c["brief"];
    let mut cites = 0;
    for sentence in b["summary"].as_array().unwrap() {
        for cite in sentence["citations"].as_array().unwrap() {
            let (_, src) = s
                .get(&format!(
                    "/api/sources/{}",
                    cite["source_id"].as_str().unwrap()
                ))
                .await;
            let chars: Vec<char> = src["text"].as_str().unwrap().chars().collect();
            let (a, z) = (
                cite["start"].as_u64().unwrap() as usize,
                cite["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                chars[a..z].iter().collect::<String>(),
                cite["quote"].as_str().unwrap()
            );
            cites += 1;
        }
    }
    assert!(cites > 0, "the summary cites nothing: {b}");

    // A late subscriber gets the state and the end at once.
    let late = s.events(&id).await;
    assert_eq!(late.len(), 2, "{late:?}");
    assert_eq!(late[0].0, "status");
    assert_eq!(late[1].0, last.as_str());
    s.stop().await;
}

#[tokio::test]
async fn history_is_paged_newest_first_and_survives_a_restart() {
    let s = TestServer::start(config()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (st, acc) = s
            .post_json(
                "/api/checks",
                &json!({"question": format!("Question {i} about Port Vellan?")}),
            )
            .await;
        assert_eq!(st, 202);
        ids.push(acc["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        wait_final(&s, id).await;
    }
    let (st, p1) = s.get("/api/checks?limit=2").await;
    assert_eq!(st, 200);
    let items = p1["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], ids[4].as_str());
    assert_eq!(items[1]["id"], ids[3].as_str());
    assert_eq!(items[0]["input"], "Question 4 about Port Vellan?");
    assert_eq!(p1["next_offset"], 2);
    let (_, p3) = s.get("/api/checks?offset=4&limit=2").await;
    assert_eq!(p3["items"].as_array().unwrap().len(), 1);
    assert_eq!(p3["items"][0]["id"], ids[0].as_str());
    assert!(p3["next_offset"].is_null());
    let (_, past) = s.get("/api/checks?offset=10").await;
    assert!(past["items"].as_array().unwrap().is_empty());
    // Issue 14 item 7: a huge offset is past the end too; it used to wrap to a
    // negative SQL OFFSET, which SQLite reads as 0, and answer the first page.
    for offset in [
        "9223372036854775808",
        "18446744073709551614",
        "18446744073709551615",
    ] {
        let (st, past) = s
            .get(&format!("/api/checks?offset={offset}&limit=100"))
            .await;
        assert_eq!(st, 200, "{past}");
        assert!(past["items"].as_array().unwrap().is_empty(), "{past}");
        assert!(past["next_offset"].is_null(), "{past}");
    }

    // Diffs compare finished briefs.
    let (st, b) = s
        .get(&format!("/api/checks/{}/diff?against={}", ids[1], ids[0]))
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["from"], ids[0].as_str());
    assert_eq!(b["verdict_changed"], false);

    // Restart on the same library: the history is still there.
    let dir = s.stop().await;
    let lib = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            verity_engine::Library::open(verity_engine::LibraryOptions {
                data_dir: d.join("data"),
                models: verity_engine::ModelsMode::Off,
                read_only: false,
                models_dir: None,
                store: None,
            })
            .unwrap()
        }
    })
    .await
    .unwrap();
    let s = TestServer::start_with(dir, lib, config()).await;
    let (_, page) = s.get("/api/checks?limit=10").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    let (st, c) = s.get(&format!("/api/checks/{}", ids[2])).await;
    assert_eq!(st, 200);
    assert_lifecycle_end(&c);
    s.stop().await;
}

#[tokio::test]
async fn shutdown_refuses_new_checks_and_fails_queued_ones() {
    let s = TestServer::start(config()).await;
    s.state.pause_workers();
    let (_, acc) = s
        .post_json("/api/checks", &json!({"question": "Left waiting?"}))
        .await;
    let id = acc["id"].as_str().unwrap().to_string();
    let resp = s
        .client
        .get(s.url(&format!("/api/checks/{id}/events")))
        .send()
        .await
        .unwrap();
    s.state.begin_shutdown();
    let (st, b) = s
        .post_json("/api/checks", &json!({"question": "Too late?"}))
        .await;
    assert_eq!(st, 503);
    assert_eq!(code(&b), "shutting_down");
    // Open event streams end instead of holding the shutdown up.
    let evs = read_events(resp).await;
    assert_eq!(evs[0].0, "status");
    let (st, h) = s.get("/api/health").await;
    assert_eq!(st, 200);
    assert_eq!(h["status"], "shutting_down");
    let dir = s.stop().await;
    let lib = tokio::task::spawn_blocking({
        let d = dir.path().join("data");
        move || {
            verity_engine::Library::open(verity_engine::LibraryOptions {
                data_dir: d,
                models: verity_engine::ModelsMode::Off,
                read_only: false,
                models_dir: None,
                store: None,
            })
            .unwrap()
        }
    })
    .await
    .unwrap();
    let c = lib.check(&id).unwrap();
    assert_eq!(c.status, verity_engine::CheckStatus::Failed);
    assert!(c.error.unwrap().contains("shut down"));
}

#[tokio::test]
async fn check_again_shows_what_changed() {
    let s = TestServer::start(config()).await;
    let claim = "Replacing Port Vellan's lead service lines will cost $38 million.";
    let (_, early) = s
        .post_json(
            "/api/checks",
            &json!({"claim": claim, "as_of": "2023-05-01"}),
        )
        .await;
    let (_, now) = s.post_json("/api/checks", &json!({"claim": claim})).await;
    let (_, again) = s.post_json("/api/checks", &json!({"claim": claim})).await;
    let ids: Vec<String> = [early, now, again]
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        let c = wait_final(&s, id).await;
        assert_lifecycle_end(&c);
        assert_eq!(c["mode"], "check");
        assert!(
            c["brief"]["verdict"]["label"].is_string(),
            "claims get a verdict"
        );
    }
    // Later evidence brings new sources.
    let (st, d) = s
        .get(&format!("/api/checks/{}/diff?against={}", ids[1], ids[0]))
        .await;
    assert_eq!(st, 200, "{d}");
    assert!(!d["sources_added"].as_array().unwrap().is_empty(), "{d}");
    assert!(!d["sentences_added"].as_array().unwrap().is_empty(), "{d}");
    // The same request on the same library changes nothing.
    let (_, same) = s
        .get(&format!("/api/checks/{}/diff?against={}", ids[2], ids[1]))
        .await;
    assert_eq!(same["verdict_changed"], false, "{same}");
    assert!(
        same["sources_added"].as_array().unwrap().is_empty(),
        "{same}"
    );
    assert!(
        same["sentences_removed"].as_array().unwrap().is_empty(),
        "{same}"
    );
    // History shows the verdict.
    let (_, page) = s.get("/api/checks?limit=1").await;
    assert!(page["items"][0]["verdict"].is_string(), "{page}");
    assert!(page["items"][0]["sources"].as_u64().unwrap() > 0);

    // A diff against a check that has not finished is a conflict.
    s.state.pause_workers();
    let (_, waiting) = s.post_json("/api/checks", &json!({"claim": claim})).await;
    let (st, b) = s
        .get(&format!(
            "/api/checks/{}/diff?against={}",
            waiting["id"].as_str().unwrap(),
            ids[0]
        ))
        .await;
    assert_eq!(st, 409);
    assert_eq!(code(&b), "check_not_done");
    s.state.resume_workers();
    s.stop().await;
}

#[tokio::test]
async fn a_recheck_queues_the_same_request_as_a_new_check() {
    let s = TestServer::start(config()).await;
    let claim = "Replacing Port Vellan's lead service lines will cost $38 million.";
    let (_, first) = s
        .post_json(
            "/api/checks",
            &json!({"claim": claim, "as_of": "2024-06-30", "show_unsupported": true}),
        )
        .await;
    let old = first["id"].as_str().unwrap().to_string();
    wait_final(&s, &old).await;
    let (st, acc) = s
        .post_json(&format!("/api/checks/{old}/recheck"), &json!({}))
        .await;
    assert_eq!(st, 202, "{acc}");
    assert_eq!(acc["status"], "queued");
    let new = acc["id"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(acc["status_url"], format!("/api/checks/{new}"));
    assert_eq!(acc["events_url"], format!("/api/checks/{new}/events"));
    let c = wait_final(&s, &new).await;
    assert_lifecycle_end(&c);
    // The stored request, options and all, ran again.
    assert_eq!(c["input"], claim);
    assert_eq!(c["mode"], "check");
    assert_eq!(c["as_of"], "2024-06-30");
    assert_eq!(c["show_unsupported"], true);
    let (_, page) = s.get("/api/checks?limit=1").await;
    assert_eq!(page["items"][0]["id"], new.as_str());
    // Same library, same request: nothing changed.
    let (st, d) = s
        .get(&format!("/api/checks/{new}/diff?against={old}"))
        .await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["verdict_changed"], false, "{d}");
    assert!(d["sources_added"].as_array().unwrap().is_empty(), "{d}");

    let (st, b) = s
        .post_json("/api/checks/0123456789abcdef0/recheck", &json!({}))
        .await;
    assert_eq!(st, 404, "{b}");
    assert_eq!(code(&b), "check_not_found");
    // A re-check is a write: another site may not ask for one.
    forbidden(
        &s,
        reqwest::Method::POST,
        &format!("/api/checks/{old}/recheck"),
        &[("origin", "http://evil.example")],
        Some(("application/json", "{}")),
        "cross_origin",
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn a_recheck_needs_the_token_when_one_is_set() {
    let cfg = ServerConfig {
        token: Some("s3cret-token".into()),
        ..config()
    };
    let s = TestServer::start(cfg).await;
    let (st, b) = s
        .post_json("/api/checks/0123456789abcdef0/recheck", &json!({}))
        .await;
    assert_eq!(st, 401);
    assert_eq!(code(&b), "missing_token");
    let r = s
        .client
        .post(s.url("/api/checks/0123456789abcdef0/recheck"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    // Past the token check, an unknown id is not found.
    assert_eq!(r.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn a_check_on_an_empty_library_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lib = open_library(&dir);
    let s = TestServer::start_with(dir, lib, config()).await;
    let (st, acc) = s
        .post_json("/api/checks", &json!({"question": "Anything?"}))
        .await;
    assert_eq!(st, 202);
    let id = acc["id"].as_str().unwrap();
    let events = s.events(id).await;
    let (last, v) = events.last().unwrap();
    assert_eq!(last, "failed");
    assert!(v["error"].as_str().unwrap().contains("empty"), "{v}");
    let c = wait_final(&s, id).await;
    assert_eq!(c["status"], "failed");
    assert!(c["brief"].is_null());
    assert!(c["error"].as_str().unwrap().contains("ingest"));
    s.stop().await;
}

#[tokio::test]
async fn slow_requests_time_out_but_event_streams_do_not() {
    let (dir, lib) = tokio::task::spawn_blocking(story_library).await.unwrap();
    lib.put_check(&verity_engine::Check {
        id: verity_engine::CheckId::new("c-old"),
        created_at: "2026-01-01T00:00:00.000000Z".into(),
        status: verity_engine::CheckStatus::Failed,
        request: verity_engine::Request::new(verity_engine::Mode::Ask, "Earlier question?"),
        brief: None,
        error: Some("test".into()),
    })
    .unwrap();
    // An ingest (file write, SQLite and index commits) takes far longer than 1 ms.
    let cfg = ServerConfig {
        request_timeout: std::time::Duration::from_millis(1),
        ingest_timeout: std::time::Duration::from_millis(1),
        ..config()
    };
    let s = TestServer::start_with(dir, lib, cfg).await;
    let (st, body) = s
        .upload(
            b"Kellbridge ferry timetable for the winter season, with two sailings a day.".to_vec(),
            "ferry.txt",
        )
        .await;
    assert_eq!(st, 408);
    assert_eq!(code(&body), "request_timeout");
    // Event streams are not cut by the timeout.
    let events = s.events("c-old").await;
    assert_eq!(events.last().unwrap().0, "failed");
    assert_eq!(events.last().unwrap().1["error"], "test");
    s.stop().await;
}

/// A raw request with the given headers; returns the status and the JSON body.
async fn send_with(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut req = s.client.request(method, s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some((ctype, b)) = body {
        req = req.header("content-type", ctype).body(b.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Asserts that the request is refused with 403 and the error `code`.
async fn forbidden(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
    expected: &str,
) {
    let (st, b) = send_with(s, method.clone(), path, headers, body).await;
    assert_eq!(st, 403, "{method} {path} {headers:?}: {b}");
    assert_eq!(code(&b), expected, "{method} {path} {headers:?}");
}

#[tokio::test]
async fn foreign_hosts_are_refused_for_reads_and_writes() {
    let cfg = ServerConfig {
        allow_hosts: vec!["verity.lan".into()],
        ..config()
    };
    let s = TestServer::start(cfg).await;
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let check = Some(("application/json", r#"{"question": "Who pays?"}"#));
    // A DNS-rebinding page reads and writes under its own name.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1:1",
    ] {
        let headers = [("host", host)];
        let refused = "host_not_allowed";
        forbidden(
            &s,
            reqwest::Method::GET,
            "/api/sources",
            &headers,
            None,
            refused,
        )
        .await;
        forbidden(&s, reqwest::Method::GET, "/", &headers, None, refused).await;
        forbidden(
            &s,
            reqwest::Method::POST,
            "/api/checks",
            &headers,
            check,
            refused,
        )
        .await;
    }
    // The bound address, localhost with the bound port, and allowed names pass.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "verity.lan".to_string(),
    ] {
        let (st, b) = send_with(
            &s,
            reqwest::Method::GET,
            "/api/health",
            &[("host", &host)],
            None,
        )
        .await;
        assert_eq!(st, 200, "{host}: {b}");
    }
    let (_, checks) = s.get("/api/checks").await;
    assert!(checks["items"].as_array().unwrap().is_empty(), "{checks}");
    s.stop().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let s = TestServer::start(config()).await;
    let own = s.base.clone();
    let check = Some(("application/json", r#"{"question": "Who pays?"}"#));
    let (_, before) = s.get("/api/checks").await;
    let n_before = before["items"].as_array().unwrap().len();
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![("origin", "http://localhost:3000")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", own.as_str()), ("sec-fetch-site", "cross-site")],
    ] {
        let post = reqwest::Method::POST;
        forbidden(&s, post, "/api/checks", &headers, check, "cross_origin").await;
        let delete = reqwest::Method::DELETE;
        forbidden(
            &s,
            delete,
            "/api/sources/abcdabcd",
            &headers,
            None,
            "cross_origin",
        )
        .await;
    }
    // The multipart form a cross-site page can post without a preflight.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"Planted text.".to_vec()).file_name("x.txt"),
    );
    let r = s
        .client
        .post(s.url("/api/sources"))
        .header("origin", "https://evil.example")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "cross_origin");
    let (_, after) = s.get("/api/checks").await;
    assert_eq!(after["items"].as_array().unwrap().len(), n_before);

    // The server's own page (same origin) and clients without Origin still write.
    let localhost = own.replace("127.0.0.1", "localhost");
    for headers in [
        vec![("origin", own.as_str()), ("sec-fetch-site", "same-origin")],
        vec![("origin", localhost.as_str())],
        vec![],
    ] {
        let (st, b) = send_with(&s, reqwest::Method::POST, "/api/checks", &headers, check).await;
        assert_eq!(st, 202, "{headers:?}: {b}");
    }
    s.stop().await;
}

#[tokio::test]
async fn writes_take_only_json_or_multipart() {
    let s = TestServer::start(config()).await;
    for (path, ctype, body) in [
        ("/api/checks", "text/plain", r#"{"question": "Who pays?"}"#),
        (
            "/api/checks",
            "application/x-www-form-urlencoded",
            "question=Who+pays",
        ),
        ("/api/sources", "text/plain", "https://x.example"),
        (
            "/api/sources",
            "application/x-www-form-urlencoded",
            "url=https://x.example",
        ),
    ] {
        let (st, b) = send_with(&s, reqwest::Method::POST, path, &[], Some((ctype, body))).await;
        assert_eq!(st, 415, "{path} {ctype}: {b}");
        assert_eq!(code(&b), "unsupported_media_type");
    }
    let (st, b) = send_with(
        &s,
        reqwest::Method::DELETE,
        "/api/sources/abcdabcd",
        &[],
        Some(("text/plain", "x")),
    )
    .await;
    assert_eq!(st, 415, "{b}");
    // A DELETE without a body needs no type.
    let (st, b) = s.delete("/api/sources/abcdabcd").await;
    assert_eq!(st, 404, "{b}");
    s.stop().await;
}

/// Serve `body` as text/plain (no Content-Length, so the cap must stop the read) to every
/// connection, from a thread on 127.0.0.1; returns the URL.
fn serve_text_once(body: Vec<u8>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut line = String::new();
            let mut reader = BufReader::new(&stream);
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n",
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/big.txt")
}

#[tokio::test]
async fn fetched_urls_get_the_servers_size_cap() {
    let cfg = ServerConfig {
        max_upload_bytes: 64 * 1024,
        allow_private_urls: true,
        ..config()
    };
    let s = TestServer::start(cfg).await;
    let url = serve_text_once("Kellbridge ferry timetable. ".repeat(10_000).into_bytes());
    let (st, b) = s.post_json("/api/sources", &json!({"url": url})).await;
    assert_eq!(st, 422, "{b}");
    assert_eq!(code(&b), "ingest_failed");
    let failed = &b["error"]["details"]["failed"][0];
    assert_eq!(failed["reason"], "too_large", "{b}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("max_upload_bytes"),
        "{b}"
    );
    s.stop().await;
}

/// Send `request` as it is over a new connection; the status line, the head and the body
/// of the answer (the server closes the connection after it).
async fn raw_request(s: &TestServer, request: &[u8]) -> (String, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before it has read everything.
    let _ = conn.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        conn.read_to_end(&mut out),
    )
    .await;
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn over_long_urls_and_headers_get_json_errors() {
    let s = TestServer::start(config()).await;
    let host = s.base.trim_start_matches("http://").to_string();
    // Over the server's limit (middleware), and over hyper's own (its bare 414).
    for n in [20_000, 100_000] {
        let req = format!(
            "GET /api/search?q={} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
            "a".repeat(n)
        );
        let (status, head, body) = raw_request(&s, req.as_bytes()).await;
        assert!(status.starts_with("HTTP/1.1 414"), "{n}: {status}");
        assert!(
            head.contains("content-type: application/json"),
            "{n}: {head}"
        );
        assert_eq!(code(&body), "uri_too_long", "{n}");
    }
    let req = format!(
        "GET /api/health HTTP/1.1\r\nHost: {host}\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(500_000)
    );
    let (status, _, body) = raw_request(&s, req.as_bytes()).await;
    assert!(status.starts_with("HTTP/1.1 431"), "{status}");
    assert_eq!(code(&body), "headers_too_large");
    let (status, _, body) = raw_request(&s, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    assert_eq!(code(&body), "invalid_request");
    // The server still answers.
    let (st, _) = s.get("/api/health").await;
    assert_eq!(st, 200);
    s.stop().await;
}

#[tokio::test]
async fn error_bodies_name_no_server_paths() {
    let s = TestServer::start(config()).await;
    let dir = s.dir.path().display().to_string();
    let tmp = std::env::temp_dir().display().to_string();
    for (bytes, name) in [
        (b"   \n".to_vec(), "blank.txt"),
        (b"\x00\x01\x02binary\x00".to_vec(), "data.txt"),
        (b"not a pdf".to_vec(), "report.pdf"),
    ] {
        let r = s
            .client
            .post(s.url("/api/sources"))
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{name}");
        let text = r.text().await.unwrap();
        assert!(!text.contains(&dir), "{name}: {text}");
        assert!(!text.contains(&tmp), "{name}: {text}");
        assert!(!text.contains("uploads/up-"), "{name}: {text}");
        assert!(
            text.contains(name),
            "{name}: the file is still named: {text}"
        );
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(code(&body), "ingest_failed");
        assert_eq!(body["error"]["details"]["failed"][0]["location"], name);
    }
    s.stop().await;
}

#[tokio::test]
async fn uploads_of_unsupported_types_get_415() {
    let s = TestServer::start(config()).await;
    let (_, list) = s.get("/api/sources").await;
    let n = list.as_array().unwrap().len();
    let (st, b) = s
        .upload(b"\x89PNG\r\n\x1a\n....".to_vec(), "photo.png")
        .await;
    assert_eq!(st, 415, "{b}");
    assert_eq!(code(&b), "unsupported_type");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("photo.png"),
        "{b}"
    );
    let (st, b) = s.upload(b"MZ....".to_vec(), "setup.exe").await;
    assert_eq!(st, 415, "{b}");

    // A mixed upload adds what it can and lists the rest.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"Kellbridge Harbour Board minutes: the slipway reopens in June.".to_vec(),
            )
            .file_name("minutes.txt"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"MZ".to_vec()).file_name("setup.exe"),
        );
    let r = s
        .client
        .post(s.url("/api/sources"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(report["skipped"][0]["location"], "setup.exe", "{report}");
    let (_, list) = s.get("/api/sources").await;
    assert_eq!(list.as_array().unwrap().len(), n + 1);
    s.stop().await;
}

#[tokio::test]
async fn an_upload_with_too_many_parts_adds_nothing() {
    let s = TestServer::start(config()).await;
    let (_, list) = s.get("/api/sources").await;
    let n = list.as_array().unwrap().len();
    // Built by hand: reqwest's Form nests one stream per part and overflows the stack.
    let mut body = String::new();
    for i in 0..20_000 {
        body.push_str(&format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"n{i}.txt\"\r\n\r\nNote {i} on the Kellbridge ferry.\r\n"
        ));
    }
    body.push_str("--XyZ--\r\n");
    let r = s
        .client
        .post(s.url("/api/sources"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(code(&body), "too_many_parts");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1000"),
        "{body}"
    );
    let (_, list) = s.get("/api/sources").await;
    assert_eq!(list.as_array().unwrap().len(), n, "nothing was added");
    let uploads = s.dir.path().join("data").join("uploads");
    let left = std::fs::read_dir(&uploads).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the saved parts were removed");
    s.stop().await;
}
