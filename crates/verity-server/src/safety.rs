//! Localhost safety: the checks that keep web pages in the user's browser away from a
//! server on `127.0.0.1`.
//!
//! * **DNS rebinding.** A page on `evil.example` can re-point its own name at
//!   `127.0.0.1` and then read this server as "same origin". Its requests still carry
//!   `Host: evil.example`, so every request (reads too) must name a host this server
//!   answers to: the address it is bound to, `localhost`, a loopback address (all with
//!   the bound port), any IP address when bound to `0.0.0.0`/`[::]` (IP literals cannot
//!   be rebound), or a name the operator allowed with `--allow-host`.
//! * **Cross-site requests (CSRF).** A form or `fetch` on another site can send a POST
//!   without reading the answer. Writes must carry no `Origin`, or one whose host and
//!   port pass the same test, and must not be marked `Sec-Fetch-Site: cross-site`.
//! * **Content types.** Writes with a body must say `application/json` (or `+json`) or
//!   `multipart/form-data`; the types a cross-site form can send without a preflight
//!   (`text/plain`, `application/x-www-form-urlencoded`) are refused with 415.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Code};

/// The hosts this server answers to.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    /// The port the listener is bound to.
    port: u16,
    /// The bound address; `None` when bound to the unspecified address (all interfaces).
    ip: Option<IpAddr>,
    /// `--allow-host` entries, lower-case: `name` (any port) or `name:port`.
    names: Vec<String>,
}

impl HostPolicy {
    pub(crate) fn new(bound: SocketAddr, allow: &[String]) -> HostPolicy {
        HostPolicy {
            port: bound.port(),
            ip: (!bound.ip().is_unspecified()).then(|| bound.ip()),
            names: allow
                .iter()
                .map(|n| n.trim().to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect(),
        }
    }

    /// Does `host` (as in an authority: `name`, `1.2.3.4`, `[::1]`) with `port` name this
    /// server?
    fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        if self.allowed_name(&host, port) {
            return true;
        }
        if port != self.port {
            return false;
        }
        if host == "localhost" {
            return true;
        }
        match IpAddr::from_str(host.trim_start_matches('[').trim_end_matches(']')) {
            Ok(ip) => ip.is_loopback() || self.ip.is_none_or(|bound| bound == ip),
            Err(_) => false,
        }
    }

    fn allowed_name(&self, host: &str, port: u16) -> bool {
        self.names
            .iter()
            .any(|n| n == host || *n == format!("{host}:{port}"))
    }

    /// Is the authority `raw` (a `Host` header) this server? No port means 80.
    fn allows_authority(&self, raw: &str) -> bool {
        if raw.contains('@') {
            return false;
        }
        match Authority::from_str(raw.trim()) {
            Ok(a) => self.allows(a.host(), a.port_u16().unwrap_or(80)),
            Err(_) => false,
        }
    }

    /// Is the `Origin` header `raw` (`scheme://host[:port]`) this server?
    fn allows_origin(&self, raw: &str) -> bool {
        let Ok(uri) = Uri::from_str(raw.trim()) else {
            return false;
        };
        let default = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            _ => return false,
        };
        match uri.authority() {
            Some(a) if !a.as_str().contains('@') => {
                self.allows(a.host(), a.port_u16().unwrap_or(default))
            }
            _ => false,
        }
    }
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `Host` of a request: the header, else the URI's authority (HTTP/2).
fn request_host(req: &Request) -> Option<String> {
    header_str(req.headers(), &header::HOST)
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

fn host_error(host: Option<&str>) -> ApiError {
    let shown: String = host
        .unwrap_or("(none)")
        .chars()
        .take(100)
        .filter(|c| !c.is_control())
        .collect();
    ApiError::new(
        Code::HostNotAllowed,
        format!(
            "this server does not answer to host `{shown}`; use the address it printed at start \
             (or localhost with its port), or start it with `--allow-host NAME` to accept that name"
        ),
    )
}

fn cross_origin(why: &str) -> ApiError {
    ApiError::new(
        Code::CrossOrigin,
        format!(
            "refused a change requested by another site ({why}); use this server's own page, \
             or send the request without an `Origin` header (curl, scripts), or allow the \
             site's host with `--allow-host NAME`"
        ),
    )
}

/// Why a write's origin is refused, if it is.
fn origin_problem(policy: &HostPolicy, headers: &HeaderMap) -> Option<ApiError> {
    let site = header::HeaderName::from_static("sec-fetch-site");
    if header_str(headers, &site).is_some_and(|s| s.trim().eq_ignore_ascii_case("cross-site")) {
        return Some(cross_origin("`Sec-Fetch-Site: cross-site`"));
    }
    let origin = headers.get(header::ORIGIN)?;
    match origin.to_str() {
        Ok(o) if policy.allows_origin(o) => None,
        Ok(o) => {
            let shown: String = o.chars().take(100).collect();
            Some(cross_origin(&format!("`Origin: {shown}`")))
        }
        Err(_) => Some(cross_origin("an unreadable `Origin` header")),
    }
}

/// Is `ctype` (a `Content-Type` value) JSON or multipart?
fn accepted_type(ctype: &str) -> bool {
    let essence = ctype
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence == "multipart/form-data"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Does the request say it has a body?
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || header_str(headers, &header::CONTENT_LENGTH)
            .is_some_and(|n| n.trim().parse::<u64>().map_or(true, |n| n > 0))
}

/// Why a write's body type is refused, if it is.
fn content_type_problem(req: &Request) -> Option<ApiError> {
    let ok = match header_str(req.headers(), &header::CONTENT_TYPE) {
        Some(ctype) => accepted_type(ctype),
        None => !has_body(req.headers()),
    };
    (!ok).then(|| {
        ApiError::new(
            Code::UnsupportedMediaType,
            format!(
                "{} {} takes an `application/json` body (or `multipart/form-data` for uploads) \
                 with a matching Content-Type",
                req.method(),
                req.uri().path()
            ),
        )
    })
}

/// Middleware: the Host check on every request; the Origin and content-type checks on
/// writes.
pub(crate) async fn host_guard(
    State(policy): State<Arc<HostPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let host = request_host(&req);
    if !host.as_deref().is_some_and(|h| policy.allows_authority(h)) {
        return host_error(host.as_deref()).into_response();
    }
    if is_write(req.method()) {
        let problem = origin_problem(&policy, req.headers()).or_else(|| content_type_problem(&req));
        if let Some(e) = problem {
            return e.into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bound: &str, allow: &[&str]) -> HostPolicy {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        HostPolicy::new(bound.parse().unwrap(), &allow)
    }

    #[test]
    fn hosts_must_name_this_server() {
        let p = policy("127.0.0.1:8080", &["verity.lan", "box:9000"]);
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST:8080",
            "[::1]:8080",
            "verity.lan",
            "verity.lan:443",
            "box:9000",
        ] {
            assert!(p.allows_authority(ok), "{ok} should pass");
        }
        for bad in [
            "evil.example:8080",
            "evil.example",
            "127.0.0.1:8081",
            "localhost",
            "192.168.1.5:8080",
            "box:9001",
            "user@127.0.0.1:8080",
            "",
        ] {
            assert!(!p.allows_authority(bad), "{bad} should be refused");
        }
    }

    #[test]
    fn any_ip_literal_when_bound_to_all_interfaces() {
        let p = policy("0.0.0.0:8080", &[]);
        assert!(p.allows_authority("192.168.1.5:8080"));
        assert!(!p.allows_authority("192.168.1.5:8081"));
        assert!(!p.allows_authority("rebind.evil.example:8080"));
    }

    #[test]
    fn origins_are_checked_like_hosts() {
        let p = policy("127.0.0.1:8080", &["verity.lan"]);
        assert!(p.allows_origin("http://127.0.0.1:8080"));
        assert!(p.allows_origin("http://localhost:8080"));
        assert!(p.allows_origin("https://verity.lan"));
        assert!(!p.allows_origin("http://evil.example"));
        assert!(!p.allows_origin("http://localhost:3000"));
        assert!(!p.allows_origin("null"));
        assert!(!p.allows_origin("file://"));
        let p80 = policy("127.0.0.1:80", &[]);
        assert!(p80.allows_origin("http://localhost"));
        assert!(!p80.allows_origin("https://localhost"));
    }

    #[test]
    fn only_json_and_multipart_bodies() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            "multipart/form-data; boundary=x",
        ] {
            assert!(accepted_type(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "text/json",
            "",
        ] {
            assert!(!accepted_type(bad), "{bad}");
        }
    }
}
