//! JSON: the whole brief, for tools and the API.

use serde_json::{json, Value};
use verity_types::Brief;

/// The `format` field of every JSON brief.
pub const JSON_FORMAT: &str = "verity.brief";
/// The `version` field; bumped when a field changes meaning or goes away.
pub const JSON_VERSION: u32 = 1;

/// Renders a brief as JSON: every sentence with its citations (source id, passage id,
/// character span in the source, exact quote), stance scores and support score; the
/// verdict; the sources with the passages used and their offsets; the plan; the support
/// check. `format` and `version` identify the shape.
pub fn render_json(b: &Brief) -> Value {
    match serde_json::to_value(b) {
        Ok(v) => render_json_value(v),
        Err(e) => json!({
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "error": format!("could not serialise the brief: {e}"),
        }),
    }
}

/// [`render_json`] of a brief that is already JSON (a stored check's): the same
/// `format`/`version` header, then the brief's fields.
pub fn render_json_value(brief: Value) -> Value {
    match brief {
        Value::Object(fields) => {
            let mut out = serde_json::Map::new();
            out.insert("format".into(), json!(JSON_FORMAT));
            out.insert("version".into(), json!(JSON_VERSION));
            out.extend(fields);
            Value::Object(out)
        }
        // A brief is plain data; this cannot happen, but rendering never fails.
        other => json!({ "format": JSON_FORMAT, "version": JSON_VERSION, "brief": other }),
    }
}
