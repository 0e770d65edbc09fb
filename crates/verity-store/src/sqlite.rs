//! The embedded store: one SQLite file in WAL mode, one writer connection and a small
//! pool of readers so that concurrent searches do not queue behind each other.

use crate::shared::{
    bad_span, corrupt_spans, decode_spans, encode_spans, exported, filter_condition,
    slice_passages, sql_count, SourceRow, Spans,
};
use crate::{NewSource, Result, SourceState, Store, StoreError, StoredCheck};
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use verity_types::{Passage, PassageId, SearchFilters, Source, SourceId};

/// 2: `passages` keep only their character spans; their text is sliced from the source's
/// stored text on read (it was written twice, and as ~1 KB rows of a WITHOUT ROWID table
/// keyed by a random hash every insert split pages mid-tree).
///
/// 3: a source's text lives in `source_texts`, beside its row rather than in it, so that
/// moving a source between states rewrites a few hundred bytes, not the whole text.
///
/// 4: a source's passage spans live beside its text as one packed blob (see
/// [`encode_spans`]) instead of one `passages` row each: ingest wrote ~3 rows and two
/// B-tree entries per passage, keyed by a 64-character id, for what is 16 bytes of data.
///
/// 5: every `checks` row has the one shape of the engine's `Check` (see
/// [`crate::StoredCheck`]); the server's and the CLI's rows of schema 4 differed.
///
/// 6: the `jobs` table of the job queue (see `jobs.rs`).
const SCHEMA_VERSION: i64 = 6;
const READERS: usize = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    format TEXT NOT NULL,
    title TEXT, publisher TEXT, author TEXT, published TEXT, url TEXT, kind TEXT,
    attribution TEXT,
    ingested_at TEXT NOT NULL,
    char_len INTEGER NOT NULL,
    passage_count INTEGER NOT NULL,
    duplicate_of TEXT,
    fingerprint BLOB,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_state ON sources(state);
CREATE TABLE IF NOT EXISTS source_texts (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    spans BLOB NOT NULL DEFAULT x''
);
CREATE TABLE IF NOT EXISTS checks (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    brief TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS checks_created ON checks(created_at);
";

const SOURCE_COLS: &str = "id, location, format, title, publisher, author, published, url, kind, \
     attribution, ingested_at, char_len, passage_count, duplicate_of";

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

pub(crate) fn sql(action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite { action, source }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock cannot leave SQLite half-written (transactions roll
    // back on drop), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn source_text_on(conn: &Connection, id: &SourceId) -> Result<Option<String>> {
    conn.query_row(
        "SELECT text FROM source_texts WHERE id=?1",
        [id.as_str()],
        |r| r.get(0),
    )
    .optional()
    .map_err(sql("reading a source's text"))
}

/// Spans of one source, read without its text.
fn spans_on(conn: &Connection, id: &SourceId) -> Result<Option<Spans>> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached("SELECT spans FROM source_texts WHERE id=?1")
        .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)).optional())
        .map_err(sql("reading passage spans"))?;
    blob.map(|b| decode_spans(&b).ok_or_else(|| corrupt_spans(id)))
        .transpose()
}

/// Version 3 → 4: pack each source's `passages` rows into its `source_texts.spans`, then
/// drop the table; one transaction, so an interrupted upgrade leaves version 3 intact.
fn pack_passage_rows(conn: &Connection) -> Result<()> {
    // Dropped without a commit (any error below), the transaction rolls back.
    let pack = || -> rusqlite::Result<()> {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch("ALTER TABLE source_texts ADD COLUMN spans BLOB NOT NULL DEFAULT x'';")?;
        let mut rows = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT source_id, start, end FROM passages ORDER BY source_id, ordinal",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                rows.push((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ));
            }
        }
        {
            let mut update = tx.prepare("UPDATE source_texts SET spans=?2 WHERE id=?1")?;
            for group in rows.chunk_by(|a, b| a.0 == b.0) {
                let blob = encode_spans(group.iter().map(|r| (r.1, r.2)));
                update.execute(params![group[0].0, blob])?;
            }
        }
        tx.execute_batch("DROP TABLE passages; PRAGMA user_version=4;")?;
        tx.commit()
    };
    pack().map_err(sql("packing passage spans"))
}

/// Version 4 → 5: rewrite every check row in the one shape (see
/// [`crate::upgrade_check_rows`]); one transaction, so an interrupted upgrade leaves
/// version 4 intact.
fn upgrade_checks(conn: &Connection) -> Result<()> {
    let upgrade = || -> rusqlite::Result<()> {
        let tx = conn.unchecked_transaction()?;
        // A version 1 library made before the history existed has no table yet.
        tx.execute_batch(SCHEMA)?;
        let mut rows = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT id, mode, input, request, brief FROM checks")?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let (id, mode, input, request, brief): (
                    String,
                    String,
                    String,
                    String,
                    Option<String>,
                ) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                let (request, brief) =
                    crate::upgrade_check_rows(&mode, &input, &request, brief.as_deref());
                rows.push((id, request, brief));
            }
        }
        {
            let mut update = tx.prepare("UPDATE checks SET request=?2, brief=?3 WHERE id=?1")?;
            for (id, request, brief) in &rows {
                update.execute(params![id, request, brief])?;
            }
        }
        tx.execute_batch("PRAGMA user_version=5;")?;
        tx.commit()
    };
    upgrade().map_err(sql("upgrading the check history"))
}

/// Version 5 → 6: the job queue's table, in one transaction.
fn add_jobs_table(conn: &Connection) -> Result<()> {
    let add = || -> rusqlite::Result<()> {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(crate::jobs::JOBS_TABLE)?;
        tx.execute_batch("PRAGMA user_version=6;")?;
        tx.commit()
    };
    add().map_err(sql("adding the job queue"))
}

impl SqliteStore {
    /// Open (or create) the store at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let writer = Connection::open(path).map_err(open_err)?;
        writer
            .execute_batch(
                "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                 PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192; \
                 PRAGMA busy_timeout=10000;",
            )
            .map_err(open_err)?;
        Self::migrate(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(open_err)?;
            r.execute_batch("PRAGMA busy_timeout=10000;")
                .map_err(open_err)?;
            readers.push(Mutex::new(r));
        }
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// A private in-memory store (tests, evaluation runs).
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory().map_err(sql("opening an in-memory store"))?;
        Self::migrate(&conn)?;
        Ok(SqliteStore {
            writer: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
        })
    }

    fn migrate(conn: &Connection) -> Result<()> {
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql("reading the schema version"))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version == 1 {
            // Rebuild `passages` as spans only, in one transaction.
            conn.execute_batch(
                "BEGIN;
                 ALTER TABLE passages RENAME TO passages_v1;
                 CREATE TABLE passages (
                     source_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
                     start INTEGER NOT NULL, end INTEGER NOT NULL,
                     PRIMARY KEY (source_id, ordinal));
                 INSERT INTO passages SELECT source_id, ordinal, start, end FROM passages_v1;
                 DROP TABLE passages_v1;
                 PRAGMA user_version=2;
                 COMMIT;",
            )
            .map_err(sql("upgrading the passages table"))?;
        }
        if version == 1 || version == 2 {
            // Move each source's text out of its row, in one transaction.
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE source_texts (id TEXT PRIMARY KEY, text TEXT NOT NULL);
                 INSERT INTO source_texts SELECT id, text FROM sources;
                 ALTER TABLE sources DROP COLUMN text;
                 PRAGMA user_version=3;
                 COMMIT;",
            )
            .map_err(sql("moving source texts to their own table"))?;
        }
        if (1..=3).contains(&version) {
            pack_passage_rows(conn)?;
        }
        if (1..=4).contains(&version) {
            upgrade_checks(conn)?;
        }
        if (1..=5).contains(&version) {
            add_jobs_table(conn)?;
        }
        conn.execute_batch(SCHEMA)
            .and_then(|()| conn.execute_batch(crate::jobs::JOBS_TABLE))
            .and_then(|()| conn.execute_batch(crate::jobs::JOB_FILES_TABLE))
            .map_err(sql("creating the schema"))?;
        conn.execute_batch(&format!("PRAGMA user_version={SCHEMA_VERSION}"))
            .map_err(sql("setting the schema version"))?;
        Ok(())
    }

    pub(crate) fn read(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            return lock(&self.writer);
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(g) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return g;
            }
        }
        lock(&self.readers[start % self.readers.len()])
    }

    pub(crate) fn write(&self) -> MutexGuard<'_, Connection> {
        lock(&self.writer)
    }
}

fn source_from_row(r: &Row<'_>) -> rusqlite::Result<Source> {
    Ok(SourceRow {
        id: r.get(0)?,
        location: r.get(1)?,
        format: r.get(2)?,
        title: r.get(3)?,
        publisher: r.get(4)?,
        author: r.get(5)?,
        published: r.get(6)?,
        url: r.get(7)?,
        kind: r.get(8)?,
        attribution: r.get(9)?,
        ingested_at: r.get(10)?,
        char_len: r.get(11)?,
        passage_count: r.get(12)?,
        duplicate_of: r.get(13)?,
    }
    .into_source())
}

fn check_from_row(r: &Row<'_>) -> rusqlite::Result<StoredCheck> {
    Ok(StoredCheck {
        id: r.get(0)?,
        created_at: r.get(1)?,
        mode: r.get(2)?,
        input: r.get(3)?,
        status: r.get(4)?,
        request: r.get(5)?,
        brief: r.get(6)?,
        error: r.get(7)?,
    })
}

fn placeholders(n: usize) -> String {
    let mut s = String::with_capacity(n * 2);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        s.push('?');
    }
    s
}

impl Store for SqliteStore {
    fn existing(&self, ids: &[SourceId]) -> Result<HashSet<SourceId>> {
        let conn = self.read();
        let mut out = HashSet::new();
        for chunk in ids.chunks(500) {
            let q = format!(
                "SELECT id FROM sources WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let mut stmt = conn.prepare_cached(&q).map_err(sql("looking up sources"))?;
            let rows = stmt
                .query_map(params_from_iter(chunk.iter().map(|i| i.as_str())), |r| {
                    r.get::<_, String>(0)
                })
                .map_err(sql("looking up sources"))?;
            for row in rows {
                out.insert(SourceId::new(row.map_err(sql("looking up sources"))?));
            }
        }
        Ok(out)
    }

    fn put_sources(&self, items: &[NewSource]) -> Result<()> {
        let mut conn = self.write();
        let tx = conn.transaction().map_err(sql("starting a write"))?;
        {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let mut src = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO sources (id, location, format, title, publisher, author, \
                     published, url, kind, attribution, ingested_at, char_len, passage_count, \
                     duplicate_of, fingerprint, state) \
                     VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,'pending')",
                )
                .map_err(sql("preparing the source insert"))?;
            let mut text = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO source_texts (id, text, spans) VALUES (?1,?2,?3)",
                )
                .map_err(sql("preparing the text insert"))?;
            for s in items {
                let m = &s.meta;
                let inserted = src
                    .execute(params![
                        s.id.as_str(),
                        s.location,
                        s.format.as_str(),
                        m.title,
                        m.publisher,
                        m.author,
                        m.published.map(|d| d.format("%Y-%m-%d").to_string()),
                        m.url,
                        m.kind.map(|k| k.as_str()),
                        m.attribution,
                        s.ingested_at.as_deref().unwrap_or(&now),
                        s.text.chars().count() as i64,
                        s.passages.len() as i64,
                        s.duplicate_of.as_ref().map(|d| d.as_str()),
                        s.fingerprint,
                    ])
                    .map_err(sql("storing a source"))?;
                if inserted == 0 {
                    continue; // already stored: re-ingest is a no-op
                }
                let spans = encode_spans(s.passages.iter().map(|p| (p.start, p.end)));
                text.execute(params![s.id.as_str(), s.text, spans])
                    .map_err(sql("storing a source's text"))?;
            }
        }
        tx.commit().map_err(sql("committing sources"))
    }

    fn mark_indexed(&self, ids: &[SourceId]) -> Result<()> {
        let mut conn = self.write();
        let tx = conn.transaction().map_err(sql("starting a write"))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE sources SET state='indexed' WHERE id=?1 AND state='pending'",
                )
                .map_err(sql("marking sources indexed"))?;
            for id in ids {
                stmt.execute([id.as_str()])
                    .map_err(sql("marking sources indexed"))?;
            }
        }
        tx.commit().map_err(sql("marking sources indexed"))
    }

    fn sources_in_state(&self, state: SourceState) -> Result<Vec<SourceId>> {
        let conn = self.write();
        let mut stmt = conn
            .prepare_cached("SELECT id FROM sources WHERE state=?1 ORDER BY id")
            .map_err(sql("listing sources by state"))?;
        let rows = stmt
            .query_map([state.as_str()], |r| r.get::<_, String>(0))
            .map_err(sql("listing sources by state"))?;
        rows.map(|r| {
            r.map(SourceId::new)
                .map_err(sql("listing sources by state"))
        })
        .collect()
    }

    fn begin_remove(&self, id: &SourceId) -> Result<bool> {
        let conn = self.write();
        let n = conn
            .execute(
                "UPDATE sources SET state='removing' WHERE id=?1",
                [id.as_str()],
            )
            .map_err(sql("marking a source for removal"))?;
        // Copies that pointed at it now stand on their own.
        conn.execute(
            "UPDATE sources SET duplicate_of=NULL WHERE duplicate_of=?1",
            [id.as_str()],
        )
        .map_err(sql("unlinking duplicates"))?;
        Ok(n > 0)
    }

    fn finish_remove(&self, id: &SourceId) -> Result<()> {
        let mut conn = self.write();
        let tx = conn.transaction().map_err(sql("starting a removal"))?;
        tx.execute("DELETE FROM sources WHERE id=?1", [id.as_str()])
            .map_err(sql("removing a source"))?;
        tx.execute("DELETE FROM source_texts WHERE id=?1", [id.as_str()])
            .map_err(sql("removing a source's text"))?;
        tx.commit().map_err(sql("committing a removal"))
    }

    fn source(&self, id: &SourceId) -> Result<Option<Source>> {
        let conn = self.read();
        let q = format!("SELECT {SOURCE_COLS} FROM sources WHERE id=?1 AND state='indexed'");
        conn.query_row(&q, [id.as_str()], source_from_row)
            .optional()
            .map_err(sql("reading a source"))
    }

    fn source_text(&self, id: &SourceId) -> Result<Option<String>> {
        source_text_on(&self.read(), id)
    }

    fn passages_of(&self, id: &SourceId) -> Result<Vec<Passage>> {
        let conn = self.read();
        let (Some(text), Some(spans)) = (source_text_on(&conn, id)?, spans_on(&conn, id)?) else {
            return Ok(Vec::new());
        };
        slice_passages(id, &text, spans)
    }

    fn passages(&self, ids: &[PassageId]) -> Result<Vec<(Passage, Source)>> {
        let conn = self.read();
        let mut out = Vec::with_capacity(ids.len());
        // SQLite's substr counts characters, as the spans do, so each passage's text is
        // cut from its source's text in the query itself (a hit never loads a whole book).
        let mut tstmt = conn
            .prepare_cached("SELECT substr(text, ?2 + 1, ?3) FROM source_texts WHERE id=?1")
            .map_err(sql("reading passages"))?;
        let q = format!("SELECT {SOURCE_COLS} FROM sources WHERE id=?1 AND state='indexed'");
        let mut sstmt = conn.prepare_cached(&q).map_err(sql("reading sources"))?;
        // Each source once (hits often share one): its row and its spans.
        type Cached = Option<(Source, Spans)>;
        let mut cache: std::collections::HashMap<SourceId, Cached> =
            std::collections::HashMap::new();
        for pid in ids {
            if !cache.contains_key(&pid.source) {
                let source = sstmt
                    .query_row([pid.source.as_str()], source_from_row)
                    .optional()
                    .map_err(sql("reading a source"))?;
                let entry = match source {
                    Some(s) => spans_on(&conn, &pid.source)?.map(|spans| (s, spans)),
                    None => None,
                };
                cache.insert(pid.source.clone(), entry);
            }
            let Some(Some((source, spans))) = cache.get(&pid.source) else {
                continue;
            };
            let Some(&(start, end)) = spans.get(pid.ordinal as usize) else {
                continue;
            };
            let len = end.checked_sub(start).ok_or_else(|| bad_span(pid))?;
            let text: String = tstmt
                .query_row(
                    params![pid.source.as_str(), start as i64, len as i64],
                    |r| r.get(0),
                )
                .map_err(sql("reading a passage"))?;
            // substr clips a span that runs past the text; say so, as passages_of does.
            if text.chars().count() as u64 != len {
                return Err(bad_span(pid));
            }
            let passage = Passage {
                id: pid.clone(),
                start,
                end,
                text,
            };
            out.push((passage, source.clone()));
        }
        Ok(out)
    }

    fn list_sources(&self) -> Result<Vec<Source>> {
        let conn = self.read();
        let q = format!(
            "SELECT {SOURCE_COLS} FROM sources WHERE state='indexed' \
             ORDER BY published IS NULL, published DESC, title"
        );
        let mut stmt = conn.prepare_cached(&q).map_err(sql("listing sources"))?;
        let rows = stmt
            .query_map([], source_from_row)
            .map_err(sql("listing sources"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(sql("listing sources"))
    }

    fn filter_sources(&self, f: &SearchFilters) -> Result<Option<HashSet<SourceId>>> {
        let Some((cond, args)) = filter_condition(f, |n| format!("?{n}")) else {
            return Ok(None);
        };
        let conn = self.read();
        // A filter that leaves nothing out is no filter: say so, rather than list every
        // source (the usual case for "no syndicated copies" on a library without any).
        let excluded: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM sources WHERE state='indexed' AND NOT coalesce(({cond}), 0)"
            ))
            .and_then(|mut stmt| stmt.query_row(params_from_iter(args.iter()), |r| r.get(0)))
            .map_err(sql("filtering sources"))?;
        if excluded == 0 {
            return Ok(None);
        }
        let q = format!("SELECT id FROM sources WHERE state='indexed' AND {cond}");
        let mut stmt = conn.prepare_cached(&q).map_err(sql("filtering sources"))?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))
            .map_err(sql("filtering sources"))?;
        let mut out = HashSet::new();
        for r in rows {
            out.insert(SourceId::new(r.map_err(sql("filtering sources"))?));
        }
        Ok(Some(out))
    }

    fn fingerprints(&self) -> Result<Vec<(SourceId, Vec<u8>)>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, fingerprint FROM sources WHERE state='indexed' \
                 AND duplicate_of IS NULL AND fingerprint IS NOT NULL",
            )
            .map_err(sql("reading fingerprints"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    SourceId::new(r.get::<_, String>(0)?),
                    r.get::<_, Vec<u8>>(1)?,
                ))
            })
            .map_err(sql("reading fingerprints"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(sql("reading fingerprints"))
    }

    fn stats(&self) -> Result<(u64, u64, u64)> {
        let conn = self.read();
        conn.query_row(
            "SELECT count(*), coalesce(sum(passage_count),0), coalesce(sum(char_len),0) \
             FROM sources WHERE state='indexed'",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            },
        )
        .map_err(sql("counting sources"))
    }

    fn export_source(&self, id: &SourceId) -> Result<Option<NewSource>> {
        let conn = self.read();
        let q = format!(
            "SELECT {SOURCE_COLS}, fingerprint, text, spans FROM sources \
             JOIN source_texts USING (id) WHERE id=?1"
        );
        let row = conn
            .query_row(&q, [id.as_str()], |r| {
                Ok((source_from_row(r)?, r.get(14)?, r.get(15)?, r.get(16)?))
            })
            .optional()
            .map_err(sql("reading a source to copy"))?;
        let Some((source, fingerprint, text, spans)) = row else {
            return Ok(None);
        };
        let spans: Vec<u8> = spans;
        exported(source, text, &spans, fingerprint).map(Some)
    }

    fn put_check(&self, c: &StoredCheck) -> Result<()> {
        let conn = self.write();
        conn.execute(
            "INSERT INTO checks (id, created_at, mode, input, status, request, brief, error) \
             VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE SET \
             status=excluded.status, brief=excluded.brief, error=excluded.error",
            params![
                c.id,
                c.created_at,
                c.mode,
                c.input,
                c.status,
                c.request,
                c.brief,
                c.error
            ],
        )
        .map_err(sql("storing a check"))?;
        Ok(())
    }

    fn check(&self, id: &str) -> Result<Option<StoredCheck>> {
        let conn = self.read();
        conn.query_row(
            "SELECT id, created_at, mode, input, status, request, brief, error FROM checks WHERE id=?1",
            [id],
            check_from_row,
        )
        .optional()
        .map_err(sql("reading a check"))
    }

    /// An `offset` past the end, however large, gives an empty page.
    fn list_checks(&self, offset: usize, limit: usize) -> Result<Vec<StoredCheck>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, created_at, mode, input, status, request, brief, error FROM checks \
                 ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2",
            )
            .map_err(sql("listing checks"))?;
        let rows = stmt
            .query_map(params![sql_count(limit), sql_count(offset)], check_from_row)
            .map_err(sql("listing checks"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(sql("listing checks"))
    }

    fn ping(&self) -> Result<()> {
        self.read()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(sql("reaching the library database"))
    }

    fn check_ids(&self) -> Result<Vec<String>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached("SELECT id FROM checks")
            .map_err(sql("listing check ids"))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(sql("listing check ids"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(sql("listing check ids"))
    }
}

#[cfg(test)]
mod span_tests {
    use super::*;
    use verity_types::{DocMeta, Format};

    /// The `sources` columns of schema versions 1–3 (version 1 adds `text`).
    const LEGACY_SOURCE_COLUMNS: &str = "id TEXT PRIMARY KEY, location TEXT NOT NULL,
        format TEXT NOT NULL, title TEXT, publisher TEXT, author TEXT, published TEXT,
        url TEXT, kind TEXT, attribution TEXT, ingested_at TEXT NOT NULL,
        char_len INTEGER NOT NULL, passage_count INTEGER NOT NULL, duplicate_of TEXT,
        fingerprint BLOB, state TEXT NOT NULL";

    #[test]
    fn a_version_1_library_is_upgraded_without_losing_passages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite");
        let text = "Ösel harbour reopened. The ferry runs again.";
        {
            // The version 1 layout: passage text stored beside its span.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE sources ({LEGACY_SOURCE_COLUMNS}, text TEXT NOT NULL);
                 CREATE TABLE passages (source_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
                    start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL,
                    PRIMARY KEY (source_id, ordinal)) WITHOUT ROWID;
                 PRAGMA user_version=1;"
            ))
            .unwrap();
            c.execute(
                "INSERT INTO sources VALUES ('s1','a.txt','txt','A',NULL,NULL,NULL,NULL,NULL,
                    NULL,'2026-01-01T00:00:00Z',44,2,NULL,NULL,'indexed',?1)",
                [text],
            )
            .unwrap();
            c.execute_batch(
                "INSERT INTO passages VALUES ('s1',0,0,22,'Ösel harbour reopened.');
                 INSERT INTO passages VALUES ('s1',1,23,44,'The ferry runs again.');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let ps = store.passages_of(&SourceId::new("s1")).unwrap();
        let texts: Vec<&str> = ps.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            vec!["Ösel harbour reopened.", "The ferry runs again."]
        );
        let one = store
            .passages(&[PassageId {
                source: SourceId::new("s1"),
                ordinal: 1,
            }])
            .unwrap();
        assert_eq!(one[0].0.text, "The ferry runs again.");
        let version: i64 = store
            .read()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn a_version_3_library_packs_its_passage_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite");
        let a = "Dunmere ferry. It runs hourly. Tickets cost two crowns.";
        {
            // The version 3 layout: one `passages` row per passage.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE sources ({LEGACY_SOURCE_COLUMNS});
                 CREATE TABLE source_texts (id TEXT PRIMARY KEY, text TEXT NOT NULL);
                 CREATE TABLE passages (source_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
                    start INTEGER NOT NULL, end INTEGER NOT NULL,
                    PRIMARY KEY (source_id, ordinal));
                 PRAGMA user_version=3;"
            ))
            .unwrap();
            for (id, text, n) in [("a", a, 3), ("b", "", 0)] {
                c.execute(
                    "INSERT INTO sources VALUES (?1,'x.txt','txt','T',NULL,NULL,NULL,NULL,NULL,
                        NULL,'2026-01-01T00:00:00Z',?2,?3,NULL,NULL,'indexed')",
                    params![id, text.chars().count() as i64, n],
                )
                .unwrap();
                c.execute("INSERT INTO source_texts VALUES (?1,?2)", params![id, text])
                    .unwrap();
            }
            // Rows out of order: the ordinal, not the insert order, decides.
            c.execute_batch(
                "INSERT INTO passages VALUES ('a',2,31,55);
                 INSERT INTO passages VALUES ('a',0,0,14);
                 INSERT INTO passages VALUES ('a',1,15,30);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let texts: Vec<String> = store
            .passages_of(&SourceId::new("a"))
            .unwrap()
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(
            texts,
            [
                "Dunmere ferry.",
                "It runs hourly.",
                "Tickets cost two crowns."
            ]
        );
        assert!(store.passages_of(&SourceId::new("b")).unwrap().is_empty());
        let hit = store
            .passages(&[PassageId {
                source: SourceId::new("a"),
                ordinal: 2,
            }])
            .unwrap();
        assert_eq!((hit[0].0.start, hit[0].0.end), (31, 55));
        let conn = store.read();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name='passages'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the passages table is gone");
    }

    #[test]
    fn a_version_5_library_gets_the_job_queue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("library.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA).unwrap();
            c.execute_batch("PRAGMA user_version=5;").unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let version: i64 = store
            .read()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 6);
        use crate::JobQueue;
        let job = crate::NewJob {
            id: "j1".into(),
            kind: "check".into(),
            payload: "{}".into(),
            files: Vec::new(),
        };
        store.enqueue_job(&job).unwrap();
        assert_eq!(store.queue_depth().unwrap().queued, 1);
    }

    #[test]
    fn spans_round_trip_and_a_torn_blob_is_an_error() {
        let spans = [(0, 14), (15, 30), (31, u64::from(u32::MAX) + 7)];
        let blob = encode_spans(spans.iter().copied());
        assert_eq!(decode_spans(&blob).unwrap(), spans);
        assert!(decode_spans(&blob[..blob.len() - 1]).is_none());

        let s = SqliteStore::open_in_memory().unwrap();
        let text = "Marrow ferry. It runs.";
        let src = NewSource {
            id: SourceId::from_content(text),
            location: "marrow.txt".into(),
            format: Format::Text,
            meta: DocMeta::default(),
            text: text.into(),
            passages: vec![verity_types::PassageSpan::whole(text)],
            fingerprint: Vec::new(),
            duplicate_of: None,
            ingested_at: None,
        };
        s.put_sources(std::slice::from_ref(&src)).unwrap();
        s.mark_indexed(std::slice::from_ref(&src.id)).unwrap();
        s.write()
            .execute(
                "UPDATE source_texts SET spans=x'0102' WHERE id=?1",
                [src.id.as_str()],
            )
            .unwrap();
        let err = s.passages_of(&src.id).unwrap_err();
        assert!(err.to_string().contains("re-ingest"), "{err}");
        let pid = PassageId {
            source: src.id.clone(),
            ordinal: 0,
        };
        assert!(s.passages(&[pid]).is_err());
    }
}
