//! `verity serve --llm`: the server's own language model writes every check's prose, and
//! an API client can neither choose nor reach another endpoint.
#![allow(clippy::unwrap_used)]

#[path = "../../verity-llm/tests/support/mod.rs"]
mod chat_stand_in;
mod common;

use common::*;
use serde_json::json;

const CLAIM: &str = "Replacing Port Vellan's lead service lines will cost $38 million.";

#[tokio::test]
async fn the_servers_model_writes_every_check_and_its_sentences_are_checked() {
    let (url, seen) =
        chat_stand_in::always("SUMMARY:\nThe council sold the waterworks in 1962 [42].\n");
    let mut cfg = config();
    cfg.llm = Some(verity_engine::LlmOptions::new(
        url.clone(),
        Some("stand-in".into()),
    ));
    let s = TestServer::start(cfg).await;
    let (st, acc) = s.post_json("/api/checks", &json!({"claim": CLAIM})).await;
    assert_eq!(st, 202, "{acc}");
    let c = wait_final(&s, acc["id"].as_str().unwrap()).await;
    assert_eq!(c["status"], "done", "{c}");
    let w = &c["brief"]["writer"];
    assert_eq!(w["model"], "stand-in");
    assert_eq!(w["endpoint"], format!("{url}/chat/completions"));
    // Invented citation: sent back once, then dropped and reported.
    assert_eq!(
        (
            w["calls"].as_u64(),
            w["dropped"].as_u64(),
            w["kept"].as_u64()
        ),
        (Some(2), Some(2), Some(0)),
        "{w}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    let summary = c["brief"]["summary"].to_string();
    assert!(!summary.contains("waterworks"), "{summary}");

    // A re-check asks the server's model again.
    let old = acc["id"].as_str().unwrap().to_string();
    let (st, again) = s
        .post_json(&format!("/api/checks/{old}/recheck"), &json!({}))
        .await;
    assert_eq!(st, 202, "{again}");
    let c = wait_final(&s, again["id"].as_str().unwrap()).await;
    assert_eq!(c["brief"]["writer"]["calls"], 2, "{c}");
    s.stop().await;
}

#[tokio::test]
async fn an_api_client_cannot_choose_an_endpoint() {
    let (url, seen) = chat_stand_in::always("SUMMARY:\nAnything [1].\n");
    let s = TestServer::start(config()).await;
    let (st, body) = s
        .post_json("/api/checks", &json!({"claim": CLAIM, "llm": {"url": url}}))
        .await;
    assert_eq!(st, 400, "{body}");
    // Without a model configured, checks are extractive, as before.
    let (_, acc) = s.post_json("/api/checks", &json!({"claim": CLAIM})).await;
    let c = wait_final(&s, acc["id"].as_str().unwrap()).await;
    assert_eq!(c["status"], "done", "{c}");
    assert!(c["brief"].get("writer").is_none(), "{c}");
    assert!(seen.lock().unwrap().is_empty());
    s.stop().await;
}
