//! The OpenAPI document, generated from the handlers' annotations and the views' types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{Code, ErrorBody, ErrorDetail};
use crate::jobs::{CheckMode, JobEvent};
use crate::views::*;
use crate::{api, ops};
use verity_engine::{BriefDiff, CheckStatus, DiffSource, JobProgress, JobStatus, Readiness};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Verity API",
        description = "Ask questions and check claims against your own sources; search them; manage them. \
            Every error is `{\"error\": {\"code\", \"message\", \"hint\"}}` with a stable code. Writes need \
            `Authorization: Bearer <token>` when the server has a token.",
        license(name = "Apache-2.0")
    ),
    paths(
        api::health,
        api::search,
        api::list_sources,
        api::get_source,
        api::add_sources,
        api::get_ingest_job,
        api::cancel_ingest_job,
        api::delete_source,
        api::create_check,
        api::list_checks,
        api::get_check,
        api::check_events,
        api::diff_checks,
        api::recheck,
        api::cancel_check,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    components(schemas(
        Code, ErrorBody, ErrorDetail, Health, QueueView, SearchHitView, SourceView, MetaView,
        SourceDetail, Removed, AddUrl, IngestReportView, IngestAccepted, IngestJobView, IngestTimingsView, FailureView, NewCheck, CheckAccepted,
        CheckView, CheckSummary, CheckPage, CheckMode, CheckStatus, JobEvent,
        BriefDiff, DiffSource, JobStatus, JobProgress, Readiness,
    )),
    modifiers(&Bearer),
    tags(
        (name = "checks", description = "Briefs for questions and claims, their progress and history"),
        (name = "search", description = "Passage search"),
        (name = "sources", description = "The library's sources"),
        (name = "meta", description = "Health, probes, metrics and this document"),
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_every_path() {
        let doc = super::document();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/health",
            "/api/search",
            "/api/sources",
            "/api/sources/{id}",
            "/api/sources/jobs/{id}",
            "/api/sources/jobs/{id}/cancel",
            "/api/checks",
            "/api/checks/{id}",
            "/api/checks/{id}/events",
            "/api/checks/{id}/diff",
            "/api/checks/{id}/recheck",
            "/api/checks/{id}/cancel",
            "/healthz",
            "/readyz",
            "/metrics",
        ] {
            assert!(paths.contains_key(p), "{p} missing");
        }
        assert!(doc["components"]["schemas"]["SearchHitView"].is_object());
        // Every error code, as clients match on it, and the hint beside the message.
        let codes = doc["components"]["schemas"]["Code"]["enum"].clone();
        for c in verity_types::ErrorCode::ALL {
            assert!(
                codes.as_array().unwrap().contains(&c.as_str().into()),
                "{c:?} missing from {codes}"
            );
        }
        assert!(doc["components"]["schemas"]["ErrorDetail"]["properties"]["hint"].is_object());
    }
}
