//! The server store: one PostgreSQL database shared by several Verity nodes.
//!
//! The `Store` trait is synchronous and is called from plain threads, from tokio's
//! `spawn_blocking` and, at server start-up, from inside async code. The `postgres`
//! client runs its own tokio runtime and panics when it blocks inside another one, so
//! every connection lives on a thread of its own (a small pool): a call sends its work
//! to a free connection thread and waits for the answer on a channel, which is safe in
//! any context. A connection that broke is opened again by the next call on its thread.
//!
//! The schema is versioned: [`MIGRATIONS`] are applied at open, each recorded in
//! `verity_migrations`, under an advisory lock so that nodes starting together apply
//! each one once. Tables follow the SQLite store's (see `sqlite.rs`): `sources`,
//! `source_texts` (text and packed passage spans), `checks`; and `changes`, the change
//! log: a source becoming `indexed` or `removing` appends an entry in the same
//! transaction. Writers of the log take [`CHANGES_LOCK`] first, so sequence numbers are
//! handed out in commit order and a reader that has seen `seq` never misses a smaller
//! one committed later.

use crate::shared::{
    bad_span, corrupt_spans, decode_spans, encode_spans, exported, filter_condition,
    slice_passages, sql_count, SourceRow, Spans,
};
use crate::{Change, ChangeKind, NewSource, Result, SourceState, Store, StoreError, StoredCheck};
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use verity_types::{Passage, PassageId, SearchFilters, Source, SourceId};

/// Connections (and threads) per store.
const CONNECTIONS: usize = 4;

/// Versioned migrations, applied in order at open: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "library",
        "
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    format TEXT NOT NULL,
    title TEXT, publisher TEXT, author TEXT, published TEXT, url TEXT, kind TEXT,
    attribution TEXT,
    ingested_at TEXT NOT NULL,
    char_len BIGINT NOT NULL,
    passage_count BIGINT NOT NULL,
    duplicate_of TEXT,
    fingerprint BYTEA,
    state TEXT NOT NULL
);
CREATE INDEX sources_state ON sources(state);
CREATE TABLE source_texts (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    spans BYTEA NOT NULL
);
CREATE TABLE checks (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    brief TEXT,
    error TEXT
);
CREATE INDEX checks_created ON checks(created_at);
",
    ),
    (
        2,
        "change log",
        "
CREATE TABLE changes (
    seq BIGSERIAL PRIMARY KEY,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO changes (source_id, kind)
    SELECT id, 'indexed' FROM sources WHERE state='indexed' ORDER BY id;
",
    ),
    (3, "job queue", crate::jobs::JOBS_TABLE),
    (4, "job files", crate::jobs::JOB_FILES_TABLE),
];

/// Key of the advisory lock held while migrating ("verity" in ASCII).
const MIGRATION_LOCK: i64 = 0x7665_7269_7479;
/// Key of the advisory lock held by each transaction that appends to `changes`.
const CHANGES_LOCK: i64 = 0x7665_7269_7480;

/// In a write transaction: take the change log's lock (see the module docs).
fn lock_changes(tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHANGES_LOCK])
        .map(drop)
}

const SOURCE_COLS: &str = "id, location, format, title, publisher, author, published, url, kind, \
     attribution, ingested_at, char_len, passage_count, duplicate_of";

/// Sorting as SQLite's BINARY collation does, whatever the database's locale.
const BY_ID: &str = "id COLLATE \"C\"";

type Job = Box<dyn FnOnce(&mut Conn) + Send>;

/// One connection, opened on first use and again after it broke.
struct Conn {
    config: Arc<postgres::Config>,
    url: Arc<str>,
    client: Option<Client>,
}

impl Conn {
    fn client(&mut self) -> Result<&mut Client> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            let client = self
                .config
                .connect(NoTls)
                .map_err(|source| StoreError::Connect {
                    url: self.url.to_string(),
                    source,
                })?;
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or(StoreError::PoolStopped("no connection"))
    }
}

/// The PostgreSQL store. See the module docs.
pub struct PgStore {
    jobs: Option<mpsc::Sender<Job>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

pub(crate) fn pg(action: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |source| StoreError::Postgres { action, source }
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let redact_query = |s: &str| -> String {
        s.split(['&', ' '])
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.trim().eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join(if s.contains('&') { "&" } else { " " })
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_query(url);
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{}", redact_query(q))),
        None => (rest, String::new()),
    };
    let rest = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => rest.to_string(),
    };
    format!("{scheme}://{rest}{query}")
}

/// Whether `location` names a PostgreSQL database rather than a directory.
pub fn is_postgres_url(location: &str) -> bool {
    let l = location.trim_start();
    l.starts_with("postgres://") || l.starts_with("postgresql://")
}

/// Text as PostgreSQL can hold it: `TEXT` refuses NUL, which becomes U+FFFD (one
/// character for one, so passage spans stay true).
fn pg_text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn pg_opt(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(pg_text)
}

fn parse_config(url: &str) -> Result<postgres::Config> {
    let mut config = postgres::Config::from_str(url.trim()).map_err(|e| StoreError::BadUrl {
        url: redact_url(url),
        detail: e.to_string(),
    })?;
    if config.get_hosts().is_empty() {
        return Err(StoreError::BadUrl {
            url: redact_url(url),
            detail: "it names no host".into(),
        });
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("verity");
    }
    Ok(config)
}

fn spawn_worker(
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    mut conn: Conn,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("verity-pg".into())
        .spawn(move || loop {
            let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                Ok(job) => job,
                Err(_) => return, // the store was dropped
            };
            let run = std::panic::AssertUnwindSafe(|| job(&mut conn));
            if std::panic::catch_unwind(run).is_err() {
                conn.client = None; // its state is unknown: start again
            }
        })
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DB`, or
    /// libpq's `key=value` form) and bring its schema up to date.
    pub fn open(url: &str) -> Result<Self> {
        let config = Arc::new(parse_config(url)?);
        let url: Arc<str> = redact_url(url).into();
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut threads = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let conn = Conn {
                config: config.clone(),
                url: url.clone(),
                client: None,
            };
            let handle = spawn_worker(rx.clone(), conn)
                .map_err(|_| StoreError::PoolStopped("could not start a connection thread"))?;
            threads.push(handle);
        }
        let store = PgStore {
            jobs: Some(tx),
            threads,
        };
        store.run(migrate)?;
        Ok(store)
    }

    /// Run `f` on a pooled connection and wait for its answer.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |conn: &mut Conn| {
            let _ = tx.send(conn.client().and_then(f));
        });
        self.jobs
            .as_ref()
            .ok_or(StoreError::PoolStopped("the store is closed"))?
            .send(job)
            .map_err(|_| StoreError::PoolStopped("every connection thread has stopped"))?;
        rx.recv()
            .map_err(|_| StoreError::PoolStopped("a connection thread failed mid-call"))?
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.jobs = None; // ends every thread's loop
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Apply the migrations this database lacks, in one transaction.
fn migrate(client: &mut Client) -> Result<()> {
    let act = "migrating the schema";
    let mut tx = client.transaction().map_err(pg(act))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(pg(act))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS verity_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .map_err(pg(act))?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM verity_migrations", &[])
        .and_then(|r| r.try_get(0))
        .map_err(pg(act))?;
    let found = found.unwrap_or(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    if found > known {
        return Err(StoreError::SchemaTooNew {
            found: found.into(),
            known: known.into(),
        });
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > found) {
        tx.batch_execute(sql).map_err(pg(act))?;
        tx.execute(
            "INSERT INTO verity_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .map_err(pg(act))?;
    }
    tx.commit().map_err(pg(act))
}

fn source_from_row(r: &Row) -> Result<Source, postgres::Error> {
    Ok(SourceRow {
        id: r.try_get(0)?,
        location: r.try_get(1)?,
        format: r.try_get(2)?,
        title: r.try_get(3)?,
        publisher: r.try_get(4)?,
        author: r.try_get(5)?,
        published: r.try_get(6)?,
        url: r.try_get(7)?,
        kind: r.try_get(8)?,
        attribution: r.try_get(9)?,
        ingested_at: r.try_get(10)?,
        char_len: r.try_get(11)?,
        passage_count: r.try_get(12)?,
        duplicate_of: r.try_get(13)?,
    }
    .into_source())
}

fn check_from_row(r: &Row) -> Result<StoredCheck, postgres::Error> {
    Ok(StoredCheck {
        id: r.try_get(0)?,
        created_at: r.try_get(1)?,
        mode: r.try_get(2)?,
        input: r.try_get(3)?,
        status: r.try_get(4)?,
        request: r.try_get(5)?,
        brief: r.try_get(6)?,
        error: r.try_get(7)?,
    })
}

fn ids_of(ids: &[SourceId]) -> Vec<String> {
    ids.iter().map(|i| i.as_str().to_string()).collect()
}

fn source_on(c: &mut impl GenericClient, id: &str) -> Result<Option<Source>> {
    let q = format!("SELECT {SOURCE_COLS} FROM sources WHERE id=$1 AND state='indexed'");
    let act = "reading a source";
    c.query_opt(&q, &[&id])
        .map_err(pg(act))?
        .map(|r| source_from_row(&r).map_err(pg(act)))
        .transpose()
}

fn text_on(c: &mut impl GenericClient, id: &str) -> Result<Option<String>> {
    let act = "reading a source's text";
    c.query_opt("SELECT text FROM source_texts WHERE id=$1", &[&id])
        .map_err(pg(act))?
        .map(|r| r.try_get(0).map_err(pg(act)))
        .transpose()
}

fn spans_on(c: &mut impl GenericClient, id: &SourceId) -> Result<Option<Spans>> {
    let act = "reading passage spans";
    let blob: Option<Vec<u8>> = c
        .query_opt(
            "SELECT spans FROM source_texts WHERE id=$1",
            &[&id.as_str()],
        )
        .map_err(pg(act))?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(pg(act))?;
    blob.map(|b| decode_spans(&b).ok_or_else(|| corrupt_spans(id)))
        .transpose()
}

fn put_sources_on(c: &mut Client, items: &[NewSource]) -> Result<()> {
    let act = "storing sources";
    let mut tx = c.transaction().map_err(pg(act))?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let src = tx
        .prepare(
            "INSERT INTO sources (id, location, format, title, publisher, author, \
             published, url, kind, attribution, ingested_at, char_len, passage_count, \
             duplicate_of, fingerprint, state) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'pending') \
             ON CONFLICT (id) DO NOTHING",
        )
        .map_err(pg(act))?;
    let text = tx
        .prepare(
            "INSERT INTO source_texts (id, text, spans) VALUES ($1,$2,$3) \
             ON CONFLICT (id) DO UPDATE SET text=excluded.text, spans=excluded.spans",
        )
        .map_err(pg(act))?;
    for s in items {
        let m = &s.meta;
        let published = m.published.map(|d| d.format("%Y-%m-%d").to_string());
        let params: [&(dyn ToSql + Sync); 15] = [
            &s.id.as_str(),
            &pg_text(&s.location),
            &s.format.as_str(),
            &pg_opt(&m.title),
            &pg_opt(&m.publisher),
            &pg_opt(&m.author),
            &published,
            &pg_opt(&m.url),
            &m.kind.map(|k| k.as_str()),
            &pg_opt(&m.attribution),
            &s.ingested_at.as_deref().unwrap_or(&now),
            &(s.text.chars().count() as i64),
            &(s.passages.len() as i64),
            &s.duplicate_of.as_ref().map(|d| d.as_str()),
            &s.fingerprint,
        ];
        if tx.execute(&src, &params).map_err(pg(act))? == 0 {
            continue; // already stored: re-ingest is a no-op
        }
        let spans = encode_spans(s.passages.iter().map(|p| (p.start, p.end)));
        tx.execute(&text, &[&s.id.as_str(), &pg_text(&s.text), &spans])
            .map_err(pg(act))?;
    }
    tx.commit().map_err(pg(act))
}

/// Passages by id with their (indexed) sources, in the order asked, in two round trips:
/// the sources and their span tables, then every passage's text cut in one query.
fn passages_on(c: &mut Client, ids: &[PassageId]) -> Result<Vec<(Passage, Source)>> {
    let sources = sources_with_spans(c, ids)?;
    let mut wanted = Vec::with_capacity(ids.len());
    for pid in ids {
        let Some((_, spans)) = sources.get(&pid.source) else {
            continue;
        };
        let Some(&(start, end)) = spans.get(pid.ordinal as usize) else {
            continue;
        };
        let len = end.checked_sub(start).ok_or_else(|| bad_span(pid))?;
        wanted.push((pid, start, len));
    }
    let texts = cut_passages(c, &wanted)?;
    wanted
        .into_iter()
        .zip(texts)
        .filter_map(|(w, text)| text.map(|t| (w, t)))
        .map(|((pid, start, len), text)| {
            // substr clips a span that runs past the text; say so, as passages_of does.
            if text.chars().count() as u64 != len {
                return Err(bad_span(pid));
            }
            let source = sources[&pid.source].0.clone();
            let passage = Passage {
                id: pid.clone(),
                start,
                end: start + len,
                text,
            };
            Ok((passage, source))
        })
        .collect()
}

/// The indexed sources of these passages, each with its span table, in one query.
fn sources_with_spans(
    c: &mut Client,
    ids: &[PassageId],
) -> Result<HashMap<SourceId, (Source, Spans)>> {
    let act = "reading passages' sources";
    let mut keys: Vec<&str> = ids.iter().map(|p| p.source.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let q = format!(
        "SELECT {SOURCE_COLS}, t.spans FROM sources JOIN source_texts t USING (id) \
         WHERE id = ANY($1) AND state='indexed'"
    );
    let rows = c.query(&q, &[&keys]).map_err(pg(act))?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let source = source_from_row(r).map_err(pg(act))?;
        let blob: Vec<u8> = r.try_get(14).map_err(pg(act))?;
        let spans = decode_spans(&blob).ok_or_else(|| corrupt_spans(&source.id))?;
        out.insert(source.id.clone(), (source, spans));
    }
    Ok(out)
}

/// The text of each (passage, start, length), in order, cut by the database in one query.
/// A passage whose source was removed between the two queries comes back as `None`.
fn cut_passages(c: &mut Client, wanted: &[(&PassageId, u64, u64)]) -> Result<Vec<Option<String>>> {
    let act = "reading passages";
    let mut sources = Vec::with_capacity(wanted.len());
    let mut starts = Vec::with_capacity(wanted.len());
    let mut lens = Vec::with_capacity(wanted.len());
    for &(pid, start, len) in wanted {
        sources.push(pid.source.as_str());
        starts.push(i64::try_from(start).map_err(|_| bad_span(pid))?);
        lens.push(i64::try_from(len).map_err(|_| bad_span(pid))?);
    }
    let rows = c
        .query(
            "SELECT substr(t.text, (w.start + 1)::int, w.len::int) \
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY \
                  AS w(id, start, len, n) \
             LEFT JOIN source_texts t ON t.id = w.id ORDER BY w.n",
            &[&sources, &starts, &lens],
        )
        .map_err(pg(act))?;
    column(rows, act)
}

fn filter_on(c: &mut Client, f: &SearchFilters) -> Result<Option<HashSet<SourceId>>> {
    let Some((cond, args)) = filter_condition(f, |n| format!("${n}")) else {
        return Ok(None);
    };
    let act = "filtering sources";
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as _).collect();
    // A filter that leaves nothing out is no filter (see the SQLite store). One round
    // trip: how many it leaves out, and the ids it keeps.
    let q = format!(
        "SELECT count(*) FILTER (WHERE NOT coalesce(({cond}), false)), \
                coalesce(array_agg(id) FILTER (WHERE coalesce(({cond}), false)), '{{}}') \
         FROM sources WHERE state='indexed'"
    );
    let row = c.query_one(&q, &params).map_err(pg(act))?;
    let excluded: i64 = row.try_get(0).map_err(pg(act))?;
    if excluded == 0 {
        return Ok(None);
    }
    let kept: Vec<String> = row.try_get(1).map_err(pg(act))?;
    Ok(Some(kept.into_iter().map(SourceId::new).collect()))
}

fn column<T>(rows: Vec<Row>, act: &'static str) -> Result<Vec<T>>
where
    T: for<'a> postgres::types::FromSql<'a>,
{
    rows.iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(pg(act))
}

impl Store for PgStore {
    fn existing(&self, ids: &[SourceId]) -> Result<HashSet<SourceId>> {
        let ids = ids_of(ids);
        self.run(move |c| {
            let act = "looking up sources";
            let rows = c
                .query("SELECT id FROM sources WHERE id = ANY($1)", &[&ids])
                .map_err(pg(act))?;
            Ok(column::<String>(rows, act)?
                .into_iter()
                .map(SourceId::new)
                .collect())
        })
    }

    fn put_sources(&self, items: &[NewSource]) -> Result<()> {
        let items = items.to_vec();
        self.run(move |c| put_sources_on(c, &items))
    }

    fn mark_indexed(&self, ids: &[SourceId]) -> Result<()> {
        let ids = ids_of(ids);
        self.run(move |c| {
            let act = "marking sources indexed";
            let mut tx = c.transaction().map_err(pg(act))?;
            lock_changes(&mut tx).map_err(pg(act))?;
            tx.execute(
                "WITH done AS (UPDATE sources SET state='indexed' \
                 WHERE id = ANY($1) AND state='pending' RETURNING id) \
                 INSERT INTO changes (source_id, kind) SELECT id, 'indexed' FROM done",
                &[&ids],
            )
            .map_err(pg(act))?;
            tx.commit().map_err(pg(act))
        })
    }

    fn sources_in_state(&self, state: SourceState) -> Result<Vec<SourceId>> {
        self.run(move |c| {
            let act = "listing sources by state";
            let q = format!("SELECT id FROM sources WHERE state=$1 ORDER BY {BY_ID}");
            let rows = c.query(&q, &[&state.as_str()]).map_err(pg(act))?;
            Ok(column::<String>(rows, act)?
                .into_iter()
                .map(SourceId::new)
                .collect())
        })
    }

    fn begin_remove(&self, id: &SourceId) -> Result<bool> {
        let id = id.as_str().to_string();
        self.run(move |c| {
            let act = "marking a source for removal";
            let mut tx = c.transaction().map_err(pg(act))?;
            lock_changes(&mut tx).map_err(pg(act))?;
            let n = tx
                .execute("UPDATE sources SET state='removing' WHERE id=$1", &[&id])
                .map_err(pg(act))?;
            if n > 0 {
                tx.execute(
                    "INSERT INTO changes (source_id, kind) VALUES ($1, 'removed')",
                    &[&id],
                )
                .map_err(pg(act))?;
            }
            // Copies that pointed at it now stand on their own.
            tx.execute(
                "UPDATE sources SET duplicate_of=NULL WHERE duplicate_of=$1",
                &[&id],
            )
            .map_err(pg("unlinking duplicates"))?;
            tx.commit().map_err(pg(act))?;
            Ok(n > 0)
        })
    }

    fn finish_remove(&self, id: &SourceId) -> Result<()> {
        let id = id.as_str().to_string();
        self.run(move |c| {
            let act = "removing a source";
            let mut tx = c.transaction().map_err(pg(act))?;
            tx.execute("DELETE FROM sources WHERE id=$1", &[&id])
                .map_err(pg(act))?;
            tx.execute("DELETE FROM source_texts WHERE id=$1", &[&id])
                .map_err(pg(act))?;
            tx.commit().map_err(pg(act))
        })
    }

    fn source(&self, id: &SourceId) -> Result<Option<Source>> {
        let id = id.as_str().to_string();
        self.run(move |c| source_on(c, &id))
    }

    fn source_text(&self, id: &SourceId) -> Result<Option<String>> {
        let id = id.as_str().to_string();
        self.run(move |c| text_on(c, &id))
    }

    fn passages_of(&self, id: &SourceId) -> Result<Vec<Passage>> {
        let id = id.clone();
        self.run(move |c| {
            let (Some(text), Some(spans)) = (text_on(c, id.as_str())?, spans_on(c, &id)?) else {
                return Ok(Vec::new());
            };
            slice_passages(&id, &text, spans)
        })
    }

    fn passages(&self, ids: &[PassageId]) -> Result<Vec<(Passage, Source)>> {
        let ids = ids.to_vec();
        self.run(move |c| passages_on(c, &ids))
    }

    fn list_sources(&self) -> Result<Vec<Source>> {
        self.run(|c| {
            let act = "listing sources";
            let q = format!(
                "SELECT {SOURCE_COLS} FROM sources WHERE state='indexed' \
                 ORDER BY published IS NULL, published DESC, title COLLATE \"C\" NULLS FIRST"
            );
            let rows = c.query(&q, &[]).map_err(pg(act))?;
            rows.iter()
                .map(source_from_row)
                .collect::<Result<_, _>>()
                .map_err(pg(act))
        })
    }

    fn filter_sources(&self, f: &SearchFilters) -> Result<Option<HashSet<SourceId>>> {
        let f = f.clone();
        self.run(move |c| filter_on(c, &f))
    }

    fn fingerprints(&self) -> Result<Vec<(SourceId, Vec<u8>)>> {
        self.run(|c| {
            let act = "reading fingerprints";
            let rows = c
                .query(
                    "SELECT id, fingerprint FROM sources WHERE state='indexed' \
                     AND duplicate_of IS NULL AND fingerprint IS NOT NULL",
                    &[],
                )
                .map_err(pg(act))?;
            rows.iter()
                .map(|r| Ok((SourceId::new(r.try_get::<_, String>(0)?), r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()
                .map_err(pg(act))
        })
    }

    fn stats(&self) -> Result<(u64, u64, u64)> {
        self.run(|c| {
            let row = c
                .query_one(
                    "SELECT count(*), coalesce(sum(passage_count),0)::bigint, \
                     coalesce(sum(char_len),0)::bigint FROM sources WHERE state='indexed'",
                    &[],
                )
                .map_err(pg("counting sources"))?;
            let get = |i| {
                row.try_get::<_, i64>(i)
                    .map(|n| n as u64)
                    .map_err(pg("counting sources"))
            };
            Ok((get(0)?, get(1)?, get(2)?))
        })
    }

    fn export_source(&self, id: &SourceId) -> Result<Option<NewSource>> {
        let id = id.as_str().to_string();
        self.run(move |c| {
            let act = "reading a source to copy";
            let q = format!(
                "SELECT {SOURCE_COLS}, fingerprint, text, spans FROM sources \
                 JOIN source_texts USING (id) WHERE id=$1"
            );
            let Some(r) = c.query_opt(&q, &[&id]).map_err(pg(act))? else {
                return Ok(None);
            };
            let source = source_from_row(&r).map_err(pg(act))?;
            let fingerprint: Option<Vec<u8>> = r.try_get(14).map_err(pg(act))?;
            let text: String = r.try_get(15).map_err(pg(act))?;
            let spans: Vec<u8> = r.try_get(16).map_err(pg(act))?;
            exported(source, text, &spans, fingerprint).map(Some)
        })
    }

    fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<Change>> {
        self.run(move |c| {
            let act = "reading the change log";
            let rows = c
                .query(
                    "SELECT seq, source_id, kind FROM changes WHERE seq > $1 \
                     ORDER BY seq LIMIT $2",
                    &[&seq, &sql_count(limit)],
                )
                .map_err(pg(act))?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.try_get(2)?;
                    Ok(Change {
                        seq: r.try_get(0)?,
                        source: SourceId::new(r.try_get::<_, String>(1)?),
                        kind: if kind == "removed" {
                            ChangeKind::Removed
                        } else {
                            ChangeKind::Indexed
                        },
                    })
                })
                .collect::<Result<_, postgres::Error>>()
                .map_err(pg(act))
        })
    }

    fn put_check(&self, check: &StoredCheck) -> Result<()> {
        let c0 = check.clone();
        self.run(move |c| {
            c.execute(
                "INSERT INTO checks (id, created_at, mode, input, status, request, brief, error) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO UPDATE SET \
                 status=excluded.status, brief=excluded.brief, error=excluded.error",
                &[
                    &c0.id,
                    &c0.created_at,
                    &c0.mode,
                    &pg_text(&c0.input),
                    &c0.status,
                    &pg_text(&c0.request),
                    &pg_opt(&c0.brief),
                    &pg_opt(&c0.error),
                ],
            )
            .map_err(pg("storing a check"))?;
            Ok(())
        })
    }

    fn check(&self, id: &str) -> Result<Option<StoredCheck>> {
        let id = id.to_string();
        self.run(move |c| {
            let act = "reading a check";
            c.query_opt(
                "SELECT id, created_at, mode, input, status, request, brief, error \
                 FROM checks WHERE id=$1",
                &[&id],
            )
            .map_err(pg(act))?
            .map(|r| check_from_row(&r).map_err(pg(act)))
            .transpose()
        })
    }

    /// An `offset` past the end, however large, gives an empty page.
    fn list_checks(&self, offset: usize, limit: usize) -> Result<Vec<StoredCheck>> {
        self.run(move |c| {
            let act = "listing checks";
            let rows = c
                .query(
                    "SELECT id, created_at, mode, input, status, request, brief, error \
                     FROM checks ORDER BY created_at COLLATE \"C\" DESC, id COLLATE \"C\" DESC \
                     LIMIT $1 OFFSET $2",
                    &[&sql_count(limit), &sql_count(offset)],
                )
                .map_err(pg(act))?;
            rows.iter()
                .map(check_from_row)
                .collect::<Result<_, _>>()
                .map_err(pg(act))
        })
    }

    fn last_change(&self) -> Result<i64> {
        self.run(|c| {
            let act = "reading the change log's head";
            c.query_one("SELECT coalesce(max(seq), 0) FROM changes", &[])
                .and_then(|r| r.try_get(0))
                .map_err(pg(act))
        })
    }

    fn ping(&self) -> Result<()> {
        self.run(|c| {
            c.simple_query("SELECT 1")
                .map(drop)
                .map_err(pg("reaching the database"))
        })
    }

    fn check_ids(&self) -> Result<Vec<String>> {
        self.run(move |c| {
            let act = "listing check ids";
            let rows = c.query("SELECT id FROM checks", &[]).map_err(pg(act))?;
            rows.iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()
                .map_err(pg(act))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_redacted_urls() {
        for (url, want) in [
            (
                "postgres://ann:s3cret@db.example:5432/verity",
                "postgres://ann:***@db.example:5432/verity",
            ),
            ("postgres://ann@db/verity", "postgres://ann@db/verity"),
            (
                "postgresql://db/verity?user=ann&password=s3cret",
                "postgresql://db/verity?user=ann&password=***",
            ),
            (
                "host=db user=ann password=s3cret",
                "host=db user=ann password=***",
            ),
            ("postgres://a:b:s3cret@@x/y", "postgres://a:***@x/y"),
        ] {
            assert_eq!(redact_url(url), want);
        }
    }

    #[test]
    fn a_malformed_url_is_a_typed_error_without_the_password() {
        let err = parse_config("postgres://ann:s3cret@db:notaport/verity")
            .expect_err("a bad port is refused");
        assert!(matches!(err, StoreError::BadUrl { .. }), "{err:?}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn nul_becomes_one_replacement_character() {
        assert_eq!(pg_text("a\0b"), "a\u{FFFD}b");
        assert_eq!(pg_text("a\0b").chars().count(), 3);
        assert!(matches!(pg_text("plain"), Cow::Borrowed(_)));
        assert!(is_postgres_url("postgresql://x/y"));
        assert!(!is_postgres_url("./verity-data"));
    }
}
