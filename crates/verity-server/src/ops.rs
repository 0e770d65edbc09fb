//! Operations endpoints: `GET /healthz` (the process answers), `GET /readyz` (the store
//! answers and this node's indexes are caught up) and `GET /metrics` (Prometheus text).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use verity_engine::{Readiness, LATENCY_BUCKETS};

use crate::error::ApiError;
use crate::AppState;

/// Requests answered, by status class (1xx … 5xx).
#[derive(Default)]
pub(crate) struct RequestCounters([AtomicU64; 5]);

impl RequestCounters {
    fn count(&self, status: StatusCode) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.0[class].fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, class: usize) -> u64 {
        self.0[class - 1].load(Ordering::Relaxed)
    }
}

/// Middleware: count every answer by its status class.
pub(crate) async fn count_requests(
    State(st): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let res = next.run(req).await;
    st.requests().count(res.status());
    res
}

/// The process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "`ok`")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to serve: the store answers and this node's indexes are at most
/// `--ready-max-lag` change-log entries behind it; else 503 with the reason.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(st): State<AppState>) -> Result<Response, ApiError> {
    let lib = st.lib().clone();
    let max = st.config().ready_max_lag;
    let r = tokio::task::spawn_blocking(move || lib.readiness(max)).await?;
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, Json(r)).into_response())
}

/// Prometheus text: queue depth, job latency, index lag, requests and errors.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format 0.0.4")))]
pub async fn metrics(State(st): State<AppState>) -> Result<Response, ApiError> {
    let lib = st.lib().clone();
    let shared = lib.has_shared_store();
    let (depth, lag) = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let depth = if shared {
            Some(lib.job_queue_depth()?)
        } else {
            None
        };
        Ok((depth, lib.index_lag()?))
    })
    .await??;
    let (queued, running) = match depth {
        Some(d) => (d.queued, d.running),
        None => (st.jobs().queued() as u64, st.jobs().running() as u64),
    };
    let mut out = String::new();
    gauge(
        &mut out,
        "verity_jobs_queued",
        "Checks waiting for a worker.",
        queued,
    );
    gauge(
        &mut out,
        "verity_jobs_running",
        "Checks being run.",
        running,
    );
    let behind = u64::try_from(lag.1 - lag.0).unwrap_or(0);
    gauge(
        &mut out,
        "verity_index_lag_changes",
        "Change-log entries this node has not applied.",
        behind,
    );
    job_metrics(&mut out, &st.lib().job_metrics());
    requests(&mut out, st.requests());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

fn head(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    head(out, name, help, "gauge");
    let _ = writeln!(out, "{name} {value}");
}

fn job_metrics(out: &mut String, m: &verity_engine::JobMetrics) {
    head(
        out,
        "verity_jobs_total",
        "Checks this process ran, by how they ended.",
        "counter",
    );
    for (outcome, n) in [
        ("done", m.done),
        ("retried", m.retried),
        ("failed", m.failed),
        ("cancelled", m.cancelled),
        ("lost", m.lost),
    ] {
        let _ = writeln!(out, "verity_jobs_total{{outcome=\"{outcome}\"}} {n}");
    }
    let name = "verity_job_latency_seconds";
    head(
        out,
        name,
        "Time from queued to done or failed, of checks this process ran.",
        "histogram",
    );
    for (bound, n) in LATENCY_BUCKETS.iter().zip(&m.latency_buckets) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let count = m.latency_buckets.last().copied().unwrap_or(0);
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(
        out,
        "{name}_sum {}\n{name}_count {count}",
        m.latency_sum_secs
    );
}

fn requests(out: &mut String, r: &RequestCounters) {
    head(
        out,
        "verity_http_requests_total",
        "HTTP requests answered, by status class.",
        "counter",
    );
    for class in 1..=5 {
        let _ = writeln!(
            out,
            "verity_http_requests_total{{class=\"{class}xx\"}} {}",
            r.get(class)
        );
    }
    let errors = r.get(5);
    head(
        out,
        "verity_http_errors_total",
        "HTTP requests answered with a server error (5xx).",
        "counter",
    );
    let _ = writeln!(out, "verity_http_errors_total {errors}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_class() {
        let r = RequestCounters::default();
        r.count(StatusCode::OK);
        r.count(StatusCode::TOO_MANY_REQUESTS);
        r.count(StatusCode::SERVICE_UNAVAILABLE);
        let mut out = String::new();
        requests(&mut out, &r);
        assert!(
            out.contains("verity_http_requests_total{class=\"2xx\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("verity_http_requests_total{class=\"4xx\"} 1"),
            "{out}"
        );
        assert!(out.contains("verity_http_errors_total 1"), "{out}");
    }

    #[test]
    fn the_latency_histogram_is_prometheus_text() {
        let m = verity_engine::JobMetrics {
            done: 2,
            latency_buckets: vec![0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2],
            latency_sum_secs: 0.6,
            ..Default::default()
        };
        let mut out = String::new();
        job_metrics(&mut out, &m);
        assert!(
            out.contains("verity_job_latency_seconds_bucket{le=\"0.1\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("verity_job_latency_seconds_bucket{le=\"+Inf\"} 2"),
            "{out}"
        );
        assert!(out.contains("verity_job_latency_seconds_count 2"), "{out}");
        assert!(
            out.contains("verity_jobs_total{outcome=\"done\"} 2"),
            "{out}"
        );
    }
}
