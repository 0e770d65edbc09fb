//! Bounded decompression for PDFs. `lopdf` and `pdf-extract` inflate a stream whole,
//! with no cap, so a 1 MB file of deflated zeros becomes gigabytes in memory. Two passes
//! stop that before they run:
//!
//! * [`prescan`] runs over the raw file before `lopdf` parses it: every `stream`
//!   keyword followed by an end of line (as `lopdf` reads it) starts data that is
//!   inflated — zlib, else raw deflate past two bytes, as `lopdf` retries — into a
//!   counter, never into memory. This covers what `lopdf` inflates while loading
//!   (cross-reference streams, object streams) and every plain `FlateDecode` stream.
//! * [`expand_streams`] runs over the parsed document: each stream's filter chain
//!   (`FlateDecode`, `LZWDecode`, `ASCII85Decode`, the filters `lopdf` decodes) is
//!   decoded under the same cap, and the stream is replaced by its plain bytes, so
//!   `pdf-extract` no longer inflates it at all. Chains ending in a filter `lopdf` does
//!   not decode, and PNG predictors, are counted and left as they are.

use crate::IngestError;
use pdf_extract::{Document, Object, ObjectId, Stream};
use std::collections::HashMap;
use std::io::{Read, Write};

/// What is left of the per-document decompression budget.
#[derive(Debug)]
pub(crate) struct Budget {
    cap: u64,
    used: u64,
}

/// The budget ran out.
#[derive(Debug)]
pub(crate) struct OverBudget;

impl Budget {
    pub(crate) fn new(cap: u64) -> Self {
        Budget { cap, used: 0 }
    }

    /// Bytes expanded so far.
    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    fn remaining(&self) -> u64 {
        self.cap.saturating_sub(self.used)
    }

    fn spend(&mut self, n: u64) -> Result<(), OverBudget> {
        self.used = self.used.saturating_add(n);
        if self.used > self.cap {
            return Err(OverBudget);
        }
        Ok(())
    }
}

/// The error for a PDF over the budget.
pub(crate) fn too_large(location: &str, cap: u64) -> IngestError {
    IngestError::DecompressedTooLarge {
        location: location.to_string(),
        limit: cap,
        setting: crate::MAX_INFLATE_SETTING,
    }
}

/// Read `r` to its end (or its first error) through `take(remaining + 1)`, handing each
/// chunk to `sink`; charge what came out to the budget.
fn drain<R: Read>(
    r: R,
    budget: &mut Budget,
    mut sink: impl FnMut(&[u8]),
) -> Result<u64, OverBudget> {
    let mut r = r.take(budget.remaining().saturating_add(1));
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                sink(&buf[..n]);
                total += n as u64;
            }
        }
    }
    budget.spend(total)?;
    Ok(total)
}

/// Inflate like `lopdf` does (zlib; if that yields nothing, raw deflate from byte 2),
/// handing the output to `sink`, never more than the budget allows.
fn inflate_into(
    data: &[u8],
    budget: &mut Budget,
    mut sink: impl FnMut(&[u8]),
) -> Result<u64, OverBudget> {
    if data.is_empty() {
        return Ok(0);
    }
    let n = drain(flate2::read::ZlibDecoder::new(data), budget, &mut sink)?;
    if n > 0 || data.len() <= 2 {
        return Ok(n);
    }
    drain(flate2::read::DeflateDecoder::new(&data[2..]), budget, sink)
}

/// Where the data of a stream starts when `stream` ends at `end`: spaces and tabs, then
/// CRLF, LF or CR (the same rule as `lopdf`'s parser); `None` when no end of line follows.
fn data_start(bytes: &[u8], end: usize) -> Option<usize> {
    let mut i = end;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match (bytes.get(i), bytes.get(i + 1)) {
        (Some(b'\r'), Some(b'\n')) => Some(i + 2),
        (Some(b'\n' | b'\r'), _) => Some(i + 1),
        _ => None,
    }
}

/// Count what every stream in the raw file inflates to, without keeping any of it.
/// Returns the bytes counted, or `OverBudget` as soon as they pass `cap`.
pub(crate) fn prescan(bytes: &[u8], cap: u64) -> Result<u64, OverBudget> {
    let mut budget = Budget::new(cap);
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], b"stream") {
        let begin = from + at;
        let end = begin + b"stream".len();
        from = end;
        if bytes[..begin].ends_with(b"end") {
            continue;
        }
        let Some(start) = data_start(bytes, end) else {
            continue;
        };
        inflate_into(&bytes[start..], &mut budget, |_| {})?;
    }
    Ok(budget.used())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle.first()?;
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let at = from + hay[from..].iter().position(|b| b == first)?;
        if hay.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A writer that refuses to go past the budget (for the LZW decoder, which writes).
struct Capped<'a> {
    out: Vec<u8>,
    left: u64,
    budget: &'a mut Budget,
}

impl Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.left = 0;
            return Err(std::io::Error::other("over the decompression cap"));
        }
        self.left -= buf.len() as u64;
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn lzw_capped(
    data: &[u8],
    params: Option<&pdf_extract::Dictionary>,
    budget: &mut Budget,
) -> Result<Vec<u8>, OverBudget> {
    use weezl::{decode::Decoder, BitOrder};
    let early = params
        .and_then(|p| p.get(b"EarlyChange").ok())
        .and_then(|o| o.as_i64().ok())
        .is_none_or(|v| v != 0);
    let mut decoder = if early {
        Decoder::with_tiff_size_switch(BitOrder::Msb, 8)
    } else {
        Decoder::new(BitOrder::Msb, 8)
    };
    let left = budget.remaining().saturating_add(1);
    let mut w = Capped {
        out: Vec::new(),
        left,
        budget,
    };
    let _ = decoder.into_stream(&mut w).decode_all(data);
    let out = std::mem::take(&mut w.out);
    let hit_cap = w.left == 0;
    w.budget.spend(out.len() as u64)?;
    if hit_cap {
        return Err(OverBudget);
    }
    Ok(out)
}

/// One step of a filter chain; `None` for a filter `lopdf` does not decode (the chain
/// stops there, as `lopdf`'s does).
fn decode_step(
    filter: &[u8],
    input: &[u8],
    params: Option<&pdf_extract::Dictionary>,
    budget: &mut Budget,
) -> Result<Option<Vec<u8>>, OverBudget> {
    match filter {
        b"FlateDecode" => {
            let mut out = Vec::new();
            inflate_into(input, budget, |c| out.extend_from_slice(c))?;
            Ok(Some(out))
        }
        b"LZWDecode" => lzw_capped(input, params, budget).map(Some),
        b"ASCII85Decode" => {
            // At most 4 bytes out per byte in; decoded by lopdf on its own.
            let mut s = Stream::new(pdf_extract::Dictionary::new(), input.to_vec());
            s.dict
                .set("Filter", Object::Name(b"ASCII85Decode".to_vec()));
            let out = s.decompressed_content().unwrap_or_default();
            budget.spend(out.len() as u64)?;
            Ok(Some(out))
        }
        _ => Ok(None),
    }
}

/// Whether the stream's `DecodeParms` asks for a PNG predictor (which `lopdf` applies
/// after Flate/LZW; such streams are counted but left for `lopdf` to decode).
fn has_png_predictor(stream: &Stream) -> bool {
    stream
        .dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .and_then(|p| p.get(b"Predictor"))
        .and_then(Object::as_i64)
        .is_ok_and(|p| (10..=15).contains(&p))
}

/// Decode one stream's filter chain under the budget. Returns the decoded size, and
/// replaces the stream's content by the plain bytes when the whole chain was decoded.
pub(crate) fn expand_one(
    stream: &mut Stream,
    budget: &mut Budget,
) -> Result<Option<u64>, OverBudget> {
    let filters: Vec<Vec<u8>> = match stream.filters() {
        Ok(f) if !f.is_empty() => f.into_iter().map(<[u8]>::to_vec).collect(),
        _ => return Ok(None),
    };
    let params = stream
        .dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .ok();
    let mut data: Option<Vec<u8>> = None;
    let mut complete = true;
    for f in &filters {
        let input = data.as_deref().unwrap_or(&stream.content);
        match decode_step(f, input, params, budget)? {
            Some(out) => data = Some(out),
            None => {
                complete = false;
                break;
            }
        }
    }
    let size = data.as_ref().map_or(stream.content.len(), Vec::len) as u64;
    match data {
        Some(plain) if complete && !has_png_predictor(stream) => stream.set_plain_content(plain),
        _ => {}
    }
    Ok(Some(size))
}

/// Decode every stream of the document under one budget of `cap` bytes (see the module
/// notes). Returns the decoded size of the streams that still carry a filter.
pub(crate) fn expand_streams(
    doc: &mut Document,
    cap: u64,
) -> Result<HashMap<ObjectId, u64>, OverBudget> {
    let mut budget = Budget::new(cap);
    let mut sizes = HashMap::new();
    for (id, obj) in doc.objects.iter_mut() {
        let Object::Stream(stream) = obj else {
            continue;
        };
        if let Some(size) = expand_one(stream, &mut budget)? {
            if stream.filters().is_ok_and(|f| !f.is_empty()) {
                sizes.insert(*id, size);
            }
        }
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf_fixtures::deflated_zeros;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn inflating_stops_one_byte_past_the_cap() {
        let bomb = deflated_zeros(16 * MIB as usize);
        let mut budget = Budget::new(MIB);
        let mut seen = 0u64;
        assert!(inflate_into(&bomb, &mut budget, |c| seen += c.len() as u64).is_err());
        // What was inflated (and what a caller could have held) never passed cap + 1.
        assert_eq!(seen, MIB + 1);
        assert_eq!(budget.used(), MIB + 1);
    }

    #[test]
    fn prescan_counts_every_stream_in_the_file() {
        let mut file = b"%PDF-1.4\n1 0 obj << >>\nstream\r\n".to_vec();
        file.extend(crate::pdf_fixtures::deflate(&[7u8; 1000]));
        file.extend(b"\nendstream\n2 0 obj << >> stream \n".iter());
        file.extend(crate::pdf_fixtures::deflate(&[7u8; 500]));
        assert_eq!(prescan(&file, MIB).unwrap(), 1500);
        assert!(prescan(&file, 1200).is_err());
        // `stream` with no end of line after it is not a stream to lopdf either.
        assert_eq!(prescan(b"streamx\x78\x9c", MIB).unwrap(), 0);
    }
}
