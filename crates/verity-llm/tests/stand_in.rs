//! The client against an in-process stand-in server, only for what a real server cannot
//! be made to do on demand: 429 and 5xx answers, garbage, silence, a closed port.
//! (The real llama.cpp server is exercised by `verity-cli/tests/llm_writer.rs`.)

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::time::Duration;

use verity_llm::{ChatModel, LlmConfig, LlmError, Message, OpenAiChat};

mod support;
use support::{http, ok_json, stand_in, Canned};

fn client(url: &str, stream: bool) -> OpenAiChat {
    let mut c = LlmConfig::new(url, "stand-in");
    c.stream = stream;
    c.backoff = Duration::from_millis(10);
    c.timeout = Duration::from_secs(2);
    OpenAiChat::new(c).unwrap()
}

fn ask(c: &OpenAiChat) -> Result<verity_llm::Reply, LlmError> {
    c.chat(&[Message::system("Be brief."), Message::user("Hello?")])
}

#[test]
fn a_plain_answer_is_read_with_its_usage_and_the_request_is_openai_shaped() {
    let (url, seen) = stand_in(vec![ok_json("Hello [1].")]);
    let mut cfg = LlmConfig::new(&url, "stand-in");
    cfg.stream = false;
    cfg.key = Some("sk-test".into());
    let reply = ask(&OpenAiChat::new(cfg).unwrap()).unwrap();
    assert_eq!(reply.content, "Hello [1].");
    assert_eq!(
        (reply.prompt_tokens, reply.completion_tokens, reply.attempts),
        (Some(12), Some(5), 1)
    );
    let body: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[0]).unwrap();
    assert_eq!(body["model"], "stand-in");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "Hello?");
    assert_eq!(body["stream"], false);
}

#[test]
fn a_streamed_answer_is_put_together() {
    let events = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n\
                  data: {\"choices\":[{\"delta\":{\"content\":\"lo.\"},\"finish_reason\":\"stop\"}]}\n\n\
                  data: [DONE]\n\n";
    let (url, seen) = stand_in(vec![http(
        "200 OK",
        "content-type: text/event-stream\r\n",
        events,
    )]);
    let reply = ask(&client(&url, true)).unwrap();
    assert_eq!(reply.content, "Hello.");
    let body: serde_json::Value = serde_json::from_str(&seen.lock().unwrap()[0]).unwrap();
    assert_eq!(body["stream"], true);
}

#[test]
fn a_server_that_ignores_stream_still_answers() {
    let (url, _) = stand_in(vec![ok_json("Whole.")]);
    assert_eq!(ask(&client(&url, true)).unwrap().content, "Whole.");
}

#[test]
fn busy_and_failing_servers_are_retried_with_backoff() {
    let (url, seen) = stand_in(vec![
        http("429 Too Many Requests", "retry-after: 0\r\n", "slow down"),
        http("503 Service Unavailable", "", "loading model"),
        ok_json("Third time."),
    ]);
    let reply = ask(&client(&url, false)).unwrap();
    assert_eq!((reply.content.as_str(), reply.attempts), ("Third time.", 3));
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn retries_run_out_with_a_typed_error() {
    let (url, seen) = stand_in(
        (0..3)
            .map(|_| http("500 Internal Server Error", "", "boom"))
            .collect(),
    );
    let err = ask(&client(&url, false)).unwrap_err();
    match &err {
        LlmError::Status {
            status,
            attempts,
            detail,
            ..
        } => {
            assert_eq!((*status, *attempts, detail.as_str()), (500, 3, "boom"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_transient());
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn client_errors_are_not_retried() {
    let (url, seen) = stand_in(vec![
        http("401 Unauthorized", "", "bad key"),
        ok_json("never"),
    ]);
    let err = ask(&client(&url, false)).unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Status {
                status: 401,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn nonsense_answers_are_bad_answers() {
    for canned in [
        http(
            "200 OK",
            "content-type: text/html\r\n",
            "<html>login page</html>",
        ),
        http(
            "200 OK",
            "content-type: application/json\r\n",
            "{\"choices\": []}",
        ),
        http(
            "200 OK",
            "content-type: application/json\r\n",
            "{\"choices\": [{\"message\": {\"role\": \"assistant\"}}]}",
        ),
        http(
            "200 OK",
            "content-type: text/event-stream\r\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"cut\"}}]}\n\n",
        ),
    ] {
        let (url, _) = stand_in(vec![canned]);
        let err = ask(&client(&url, true)).unwrap_err();
        assert!(matches!(err, LlmError::BadAnswer { .. }), "{err:?}");
        assert!(err.to_string().contains("OpenAI-compatible"), "{err}");
    }
}

#[test]
fn a_silent_server_times_out() {
    let slow = Canned {
        delay: Duration::from_secs(5),
        ..ok_json("too late")
    };
    let (url, seen) = stand_in(vec![slow]);
    let mut cfg = LlmConfig::new(&url, "stand-in");
    cfg.timeout = Duration::from_millis(300);
    let err = ask(&OpenAiChat::new(cfg).unwrap()).unwrap_err();
    assert!(matches!(err, LlmError::Timeout { .. }), "{err:?}");
    assert_eq!(seen.lock().unwrap().len(), 1, "a timeout is not retried");
}

#[test]
fn a_closed_port_is_unreachable_after_retries() {
    // Bind, learn the port, close it: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = ask(&client(&format!("http://127.0.0.1:{port}/v1"), false)).unwrap_err();
    assert!(matches!(err, LlmError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("llama_cpp.server"), "{err}");
}

#[test]
fn an_answer_larger_than_the_cap_is_refused_while_it_is_read() {
    let huge = "x".repeat(verity_llm::MAX_ANSWER_BYTES as usize + 1024);
    let (url, _) = stand_in(vec![http(
        "200 OK",
        "content-type: application/json\r\n",
        &huge,
    )]);
    let err = ask(&client(&url, false)).unwrap_err();
    assert!(
        matches!(&err, LlmError::BadAnswer { detail, .. } if detail.contains("larger than")),
        "{err:?}"
    );
}
