//! Fetching `http(s)` URLs, carefully.
//!
//! * only `http` and `https`;
//! * every hop's host is resolved here and refused when any address is loopback,
//!   private, link-local, unique-local, CGNAT, multicast, broadcast, unspecified,
//!   documentation or otherwise reserved (IPv4 and IPv6, including IPv4 addresses
//!   embedded in IPv6) unless `allow_private`; the connection is then pinned to exactly
//!   the checked addresses, so a second DNS answer cannot slip in a private one;
//! * redirects are followed here (the HTTP client's own policy is off), so every hop
//!   gets the same checks, counts against `max_redirects`, and loops stop at once;
//! * one deadline covers the whole fetch, body included: the body is read on a helper
//!   thread and the fetch gives up at the deadline even when a server dribbles the body
//!   a byte at a time (the HTTP client's own timeout restarts on every read); reading
//!   stops one byte past `max_bytes`;
//! * proxies from the environment are not used: they would make the address checks
//!   meaningless.

use crate::IngestError;
use reqwest::blocking::Client;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use std::collections::HashSet;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use url::{Host, Url};
use verity_text::error_chain;

/// What raises the fetch size cap, for `too_large` messages.
const FETCH_MAX_BYTES_SETTING: &str =
    "the fetch cap (`FetchOptions::max_bytes`, 20 MiB by default)";

/// How to fetch URLs.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Allow loopback and private-network hosts (for local servers and tests).
    pub allow_private: bool,
    /// Deadline for the whole fetch, redirects included.
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
    /// What raises `max_bytes`, named in `too_large` errors (the engine passes its
    /// ingest cap and `--max-size-mb`).
    pub max_bytes_setting: &'static str,
    /// Most redirects followed.
    pub max_redirects: usize,
    pub user_agent: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            allow_private: false,
            timeout: Duration::from_secs(20),
            max_bytes: 20 * 1024 * 1024,
            max_bytes_setting: FETCH_MAX_BYTES_SETTING,
            max_redirects: 5,
            user_agent: concat!(
                "verity/",
                env!("CARGO_PKG_VERSION"),
                " (offline fact-checker)"
            )
            .to_string(),
        }
    }
}

/// A fetched body before it is read as a document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL after redirects.
    pub final_url: String,
    /// The `Content-Type` header, when sent.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Whether `s` is an http(s) URL: the scheme, in any case, after leading white space.
/// The one test of "is this a web address" for the readers (a page's metadata) and the
/// engine (an ingest input).
pub fn is_url(s: &str) -> bool {
    let s = s.trim_start().as_bytes();
    let has =
        |scheme: &[u8]| s.len() >= scheme.len() && s[..scheme.len()].eq_ignore_ascii_case(scheme);
    has(b"http://") || has(b"https://")
}

/// Is this address outside the public internet?
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_non_public(v4),
        IpAddr::V6(v6) => v6_non_public(v6),
    }
}

fn v4_non_public(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..=127).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn v6_non_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_non_public(v4);
    }
    let seg = ip.segments();
    // IPv4-compatible (deprecated) ::a.b.c.d, and NAT64 64:ff9b::/96: check the v4 part.
    let embedded = || {
        Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        )
    };
    if seg[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return v4_non_public(embedded());
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        return v4_non_public(embedded());
    }
    if seg[0] == 0x2002 {
        // 6to4: the v4 address sits in segments 1-2.
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return v4_non_public(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x2001 && seg[1] == 0) // Teredo
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // discard-only 100::/64
}

fn parse_url(raw: &str) -> Result<Url, IngestError> {
    let url = Url::parse(raw.trim()).map_err(|e| IngestError::BadUrl {
        location: raw.to_string(),
        detail: format!("{e}; write it as http://host/path or https://host/path"),
    })?;
    check_scheme(&url, raw)?;
    Ok(url)
}

fn check_scheme(url: &Url, location: &str) -> Result<(), IngestError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(IngestError::BadUrl {
            location: location.to_string(),
            detail: format!(
                "scheme `{}:` is not allowed; only http and https URLs are fetched",
                url.scheme()
            ),
        });
    }
    if url.host().is_none() {
        return Err(IngestError::BadUrl {
            location: location.to_string(),
            detail: "it has no host".into(),
        });
    }
    Ok(())
}

/// Resolve the URL's host, refuse non-public addresses unless allowed, and return the
/// domain with the addresses to pin (None for IP literals).
fn resolve_checked(
    url: &Url,
    allow_private: bool,
) -> Result<Option<(String, Vec<SocketAddr>)>, IngestError> {
    let location = url.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let refuse = |host: &str, ip: IpAddr| IngestError::RefusedPrivate {
        location: location.clone(),
        host: host.to_string(),
        addr: ip.to_string(),
    };
    match url.host() {
        Some(Host::Ipv4(ip)) => {
            if !allow_private && v4_non_public(ip) {
                return Err(refuse(&ip.to_string(), IpAddr::V4(ip)));
            }
            Ok(None)
        }
        Some(Host::Ipv6(ip)) => {
            if !allow_private && v6_non_public(ip) {
                return Err(refuse(&ip.to_string(), IpAddr::V6(ip)));
            }
            Ok(None)
        }
        Some(Host::Domain(domain)) => {
            let addrs: Vec<SocketAddr> = (domain, port)
                .to_socket_addrs()
                .map_err(|e| IngestError::Fetch {
                    location: location.clone(),
                    detail: format!("could not resolve host `{domain}`: {e}"),
                })?
                .collect();
            if addrs.is_empty() {
                return Err(IngestError::Fetch {
                    location: location.clone(),
                    detail: format!("host `{domain}` has no addresses"),
                });
            }
            if !allow_private {
                if let Some(bad) = addrs.iter().find(|a| is_non_public(a.ip())) {
                    return Err(refuse(domain, bad.ip()));
                }
            }
            Ok(Some((domain.to_string(), addrs)))
        }
        None => Err(IngestError::BadUrl {
            location,
            detail: "it has no host".into(),
        }),
    }
}

fn timed_out(url: &Url, timeout: Duration, received: Option<u64>) -> IngestError {
    IngestError::TimedOut {
        location: url.to_string(),
        limit_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        received,
    }
}

fn request_error(url: &Url, e: &reqwest::Error, timeout: Duration) -> IngestError {
    if e.is_timeout() {
        return timed_out(url, timeout, None);
    }
    let detail = if e.is_connect() {
        format!(
            "could not connect ({}); check the address and your network",
            error_chain(e)
        )
    } else {
        error_chain(e)
    };
    IngestError::Fetch {
        location: url.to_string(),
        detail,
    }
}

/// Fetch a URL's body, following redirects with the checks described in the module docs.
pub fn fetch_bytes(url: &str, opts: &FetchOptions) -> Result<Fetched, IngestError> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let original = url.to_string();
    let mut current = parse_url(url)?;
    let mut visited: HashSet<String> = HashSet::from([current.to_string()]);
    let mut hops = 0usize;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out(&current, opts.timeout, None));
        }
        let pinned = resolve_checked(&current, opts.allow_private)?;
        let mut builder = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .timeout(remaining)
            .connect_timeout(remaining.min(Duration::from_secs(10)))
            .user_agent(opts.user_agent.clone());
        if let Some((domain, addrs)) = &pinned {
            builder = builder.resolve_to_addrs(domain, addrs);
        }
        let client = builder.build().map_err(|e| IngestError::Fetch {
            location: current.to_string(),
            detail: format!("could not set up the HTTP client: {}", error_chain(&e)),
        })?;
        let resp = client
            .get(current.clone())
            .header(
                ACCEPT,
                "text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.9,application/pdf;q=0.8,*/*;q=0.5",
            )
            .send()
            .map_err(|e| request_error(&current, &e, opts.timeout))?;
        let status = resp.status();
        if status.is_redirection() && status.as_u16() != 304 {
            let Some(target) = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()) else {
                return Err(IngestError::Fetch {
                    location: current.to_string(),
                    detail: format!(
                        "HTTP {} redirect without a Location header",
                        status.as_u16()
                    ),
                });
            };
            let next = current
                .join(target.trim())
                .map_err(|e| IngestError::BadUrl {
                    location: current.to_string(),
                    detail: format!("redirect target `{target}` is not a URL: {e}"),
                })?;
            check_scheme(&next, next.as_str())?;
            hops += 1;
            if hops > opts.max_redirects {
                return Err(IngestError::TooManyRedirects {
                    location: original,
                    limit: opts.max_redirects,
                });
            }
            if !visited.insert(next.to_string()) {
                return Err(IngestError::RedirectLoop {
                    location: current.to_string(),
                    target: next.to_string(),
                });
            }
            current = next;
            continue;
        }
        if !status.is_success() {
            return Err(IngestError::HttpStatus {
                location: current.to_string(),
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
            });
        }
        if let Some(len) = resp.content_length() {
            if len > opts.max_bytes {
                return Err(too_large(&current, Some(len), opts));
            }
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = read_body(resp, &current, opts, deadline)?;
        return Ok(Fetched {
            final_url: current.to_string(),
            content_type,
            body,
        });
    }
}

fn too_large(url: &Url, size: Option<u64>, opts: &FetchOptions) -> IngestError {
    IngestError::TooLarge {
        location: url.to_string(),
        size,
        limit: opts.max_bytes,
        setting: opts.max_bytes_setting,
    }
}

/// What the body reader thread hands over.
enum Chunk {
    Data(Vec<u8>),
    End,
    Broken(String),
}

/// Read `resp` on a helper thread, chunk by chunk. The thread ends at the end of the
/// body, on an error, or at its first hand-over after the receiver is gone.
fn spawn_reader(mut resp: reqwest::blocking::Response) -> std::io::Result<Receiver<Chunk>> {
    let (tx, rx) = mpsc::sync_channel(2);
    std::thread::Builder::new()
        .name("verity-fetch-body".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let chunk = match resp.read(&mut buf) {
                    Ok(0) => Chunk::End,
                    Ok(n) => Chunk::Data(buf[..n].to_vec()),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Chunk::Broken(error_chain(&e)),
                };
                let last = !matches!(chunk, Chunk::Data(_));
                if tx.send(chunk).is_err() || last {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// Read the body until its end, one byte past `max_bytes`, or the deadline, whichever
/// comes first.
fn read_body(
    resp: reqwest::blocking::Response,
    url: &Url,
    opts: &FetchOptions,
    deadline: Instant,
) -> Result<Vec<u8>, IngestError> {
    let broken = |detail: String| IngestError::Fetch {
        location: url.to_string(),
        detail: format!("the body broke off: {detail}"),
    };
    let rx = spawn_reader(resp).map_err(|e| broken(format!("could not start reading: {e}")))?;
    let mut body = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Chunk::Data(d)) => {
                body.extend_from_slice(&d);
                if body.len() as u64 > opts.max_bytes {
                    return Err(too_large(url, None, opts));
                }
            }
            Ok(Chunk::End) => return Ok(body),
            Ok(Chunk::Broken(detail)) => return Err(broken(detail)),
            Err(RecvTimeoutError::Timeout) => {
                return Err(timed_out(url, opts.timeout, Some(body.len() as u64)))
            }
            Err(RecvTimeoutError::Disconnected) => return Err(broken("the reader stopped".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https_in_any_case() {
        assert!(is_url("https://example.org/a"));
        assert!(is_url("  HTTP://example.org"));
        assert!(!is_url("ftp://example.org/file"));
        assert!(!is_url("notes/report.md"));
        assert!(!is_url("http:/"));
        assert!(!is_url("Jane Doe"));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn non_public_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "2001:db8::1",
        ] {
            assert!(is_non_public(ip(a)), "{a} should be refused");
        }
        for a in [
            "93.184.216.34",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_non_public(ip(a)), "{a} should be allowed");
        }
    }

    #[test]
    fn only_http_and_https() {
        for u in [
            "file:///etc/passwd",
            "ftp://x.example/a",
            "gopher://x.example",
            "data:text/plain,hi",
        ] {
            let e = parse_url(u).unwrap_err();
            assert_eq!(e.reason_code(), "bad_url", "{u}");
        }
        assert_eq!(parse_url("not a url").unwrap_err().reason_code(), "bad_url");
        assert!(parse_url("https://example.com/x").is_ok());
    }

    #[test]
    fn literal_private_hosts_are_refused_before_connecting() {
        let e = fetch_bytes("http://10.0.0.1:9/x", &FetchOptions::default()).unwrap_err();
        assert_eq!(e.reason_code(), "refused_private");
        assert!(e.to_string().contains("--allow-private"), "{e}");
        let e = fetch_bytes("http://[::ffff:192.168.0.1]/", &FetchOptions::default()).unwrap_err();
        assert_eq!(e.reason_code(), "refused_private");
    }
}
