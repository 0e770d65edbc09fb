//! Near-duplicate detection for syndicated copies of one story.
//!
//! A [`Fingerprint`] is a one-permutation MinHash sketch (Li, Owen & Zhang 2012) over
//! word 3-shingles: each shingle is hashed once, the hash picks one of [`BUCKETS`]
//! buckets and the bucket keeps its smallest value. Two sketches estimate the Jaccard
//! similarity of the shingle sets as (buckets equal and filled) / (buckets filled in
//! either). One hash per shingle keeps this cheap enough for the ingest hot path.
//!
//! Words are lowercased runs of letters and digits, so punctuation, case and layout
//! changes do not matter and figures do. The hash is FNV-1a plus a SplitMix64 finaliser,
//! written out here so that fingerprints stored on disk stay comparable across Rust
//! versions and platforms.

/// Number of MinHash buckets.
pub const BUCKETS: usize = 128;
/// Words per shingle.
pub const SHINGLE: usize = 3;

/// Buckets per band in [`Fingerprint::lsh_keys`].
pub const LSH_ROWS: usize = 3;

/// Similarity at or above which two documents count as copies of one story.
///
/// Measured on the fixtures in this crate's tests: a syndicated copy with its own
/// header, footer and a handful of edited words scores 0.6–0.9; different stories on
/// the same topic with shared vocabulary score below 0.1.
pub const NEAR_DUP_THRESHOLD: f32 = 0.45;

const EMPTY: u32 = u32::MAX;
const MAGIC: &[u8; 4] = b"VFP1";

/// A MinHash sketch of a text. Compare with [`Fingerprint::similarity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    mins: Box<[u32; BUCKETS]>,
    shingles: u32,
}

#[inline]
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Hash every normalised word of `text`, in order.
///
/// Byte by byte on ASCII (most text), decoding a `char` only at a non-ASCII byte: the
/// hashes are those of lowercasing each alphanumeric `char` and feeding its UTF-8 bytes
/// to FNV-1a (a test holds this to a plain `chars()` version).
fn word_hashes(text: &str, mut f: impl FnMut(u64)) {
    let bytes = text.as_bytes();
    let mut h = FNV_OFFSET;
    let mut in_word = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let alnum = if b.is_ascii() {
            i += 1;
            if b.is_ascii_alphanumeric() {
                h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(FNV_PRIME);
                true
            } else {
                false
            }
        } else {
            let c = text[i..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            i += c.len_utf8();
            if c.is_alphanumeric() {
                let mut buf = [0u8; 4];
                for lc in c.to_lowercase() {
                    for &b in lc.encode_utf8(&mut buf).as_bytes() {
                        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
                    }
                }
                true
            } else {
                false
            }
        };
        if alnum {
            in_word = true;
        } else if in_word {
            f(splitmix(h));
            h = FNV_OFFSET;
            in_word = false;
        }
    }
    if in_word {
        f(splitmix(h));
    }
}

/// Sketch `text`.
pub fn fingerprint(text: &str) -> Fingerprint {
    let mut mins = Box::new([EMPTY; BUCKETS]);
    let mut window = [0u64; SHINGLE];
    let mut seen = 0usize;
    let mut shingles = 0u32;
    let add = |h: u64, mins: &mut [u32; BUCKETS]| {
        let h = splitmix(h);
        let bucket = (h >> 57) as usize % BUCKETS;
        let v = (h as u32).min(EMPTY - 1);
        if v < mins[bucket] {
            mins[bucket] = v;
        }
    };
    word_hashes(text, |w| {
        window.rotate_left(1);
        window[SHINGLE - 1] = w;
        seen += 1;
        if seen >= SHINGLE {
            let h = window.iter().fold(0u64, |acc, &x| acc.rotate_left(23) ^ x);
            add(h, &mut mins);
            shingles = shingles.saturating_add(1);
        }
    });
    if seen > 0 && seen < SHINGLE {
        // Very short text: the whole word sequence is the one shingle.
        let h = window[SHINGLE - seen..]
            .iter()
            .fold(0u64, |acc, &x| acc.rotate_left(23) ^ x);
        add(h, &mut mins);
        shingles = 1;
    }
    Fingerprint { mins, shingles }
}

impl Fingerprint {
    /// Estimated Jaccard similarity of the two texts' shingle sets, in `[0, 1]`.
    /// Empty texts are similar to nothing.
    pub fn similarity(&self, other: &Self) -> f32 {
        let mut union = 0u32;
        let mut same = 0u32;
        for (a, b) in self.mins.iter().zip(other.mins.iter()) {
            if *a == EMPTY && *b == EMPTY {
                continue;
            }
            union += 1;
            same += u32::from(a == b);
        }
        if union == 0 {
            0.0
        } else {
            same as f32 / union as f32
        }
    }

    /// Is `other` a near-duplicate (syndicated copy) of this text?
    pub fn is_near_duplicate(&self, other: &Self) -> bool {
        self.similarity(other) >= NEAR_DUP_THRESHOLD
    }

    /// Locality-sensitive hash keys: the buckets in bands of [`LSH_ROWS`], each band
    /// hashed with its position. Two sketches that share a key agree on a whole band, which
    /// is likely for near-duplicates and rare for strangers, so an index over these keys
    /// finds copies without comparing every pair.
    ///
    /// A short text leaves most buckets empty, and a band with an empty bucket would say
    /// nothing; so empty buckets are first filled from the next filled bucket to their
    /// right and their distance to it ("densified" one-permutation hashing, Shrivastava &
    /// Li 2014), which keeps equal sketches equal and unrelated ones apart. An empty text
    /// has no keys.
    pub fn lsh_keys(&self) -> Vec<u64> {
        let Some(last_filled) = self.mins.iter().rposition(|&m| m != EMPTY) else {
            return Vec::new();
        };
        // Walk right to left, so each empty bucket knows the next filled one (circularly:
        // the buckets after the last filled one borrow from the first).
        let mut dense = [0u32; BUCKETS];
        let mut next = (self.mins[last_filled], last_filled + BUCKETS);
        for i in (0..BUCKETS).rev() {
            let m = self.mins[i];
            dense[i] = if m == EMPTY {
                let dist = (next.1 - i) as u64;
                splitmix(u64::from(next.0) ^ (dist << 32)) as u32
            } else {
                next = (m, i);
                m
            };
        }
        dense
            .chunks_exact(LSH_ROWS)
            .enumerate()
            .map(|(band, rows)| {
                let mut h = FNV_OFFSET ^ band as u64;
                for r in rows {
                    h = (h ^ u64::from(*r)).wrapping_mul(FNV_PRIME);
                }
                splitmix(h)
            })
            .collect()
    }

    /// Number of shingles the sketch was built from.
    pub fn shingle_count(&self) -> u32 {
        self.shingles
    }

    /// Serialise: `VFP1`, shingle count (u32 LE), then the bucket minima (u32 LE).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * BUCKETS);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.shingles.to_le_bytes());
        for m in self.mins.iter() {
            out.extend_from_slice(&m.to_le_bytes());
        }
        out
    }

    /// Read back what [`Fingerprint::to_bytes`] wrote; `None` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(MAGIC)?;
        if rest.len() != 4 + 4 * BUCKETS {
            return None;
        }
        let shingles = u32::from_le_bytes(rest[..4].try_into().ok()?);
        let mut mins = Box::new([EMPTY; BUCKETS]);
        for (slot, chunk) in mins.iter_mut().zip(rest[4..].chunks_exact(4)) {
            *slot = u32::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(Fingerprint { mins, shingles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward `chars()` version of [`word_hashes`], which the byte-level one
    /// must match exactly (fingerprints are stored on disk).
    fn word_hashes_by_char(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        let mut h = FNV_OFFSET;
        let mut in_word = false;
        for c in text.chars() {
            if c.is_alphanumeric() {
                in_word = true;
                let mut buf = [0u8; 4];
                for lc in c.to_lowercase() {
                    for &b in lc.encode_utf8(&mut buf).as_bytes() {
                        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
                    }
                }
            } else if in_word {
                out.push(splitmix(h));
                h = FNV_OFFSET;
                in_word = false;
            }
        }
        if in_word {
            out.push(splitmix(h));
        }
        out
    }

    fn word_hashes_vec(text: &str) -> Vec<u64> {
        let mut out = Vec::new();
        word_hashes(text, |h| out.push(h));
        out
    }

    #[test]
    fn byte_level_word_hashes_match_the_char_version() {
        for text in [
            "",
            "The Kellbridge council approved 12,5 km² of ÖSEL's İstanbul-style café — naïve!",
            "ΣΊΣΥΦΟΣ ran; x2 3.5% \u{1F600} end",
            "  trailing spaces and\ttabs\n",
        ] {
            assert_eq!(word_hashes_vec(text), word_hashes_by_char(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn word_hashes_match_on_any_text(text in "\\PC{0,200}") {
            proptest::prop_assert_eq!(word_hashes_vec(&text), word_hashes_by_char(&text));
        }
    }

    #[test]
    fn identical_and_reformatted_texts_match() {
        let a = fingerprint("The Kellbridge council approved the budget on Tuesday.");
        let b = fingerprint("the KELLBRIDGE council   approved\nthe budget, on Tuesday!");
        assert_eq!(a.similarity(&b), 1.0);
    }

    #[test]
    fn copies_share_lsh_keys_and_strangers_do_not() {
        let story = "The harbour board of Port Vellan voted on Tuesday to extend the ferry \
            pier by forty metres, citing growing summer traffic and the need for a second berth.";
        let a = fingerprint(story);
        let b = fingerprint(&format!("From the wire: {story} Reporting by staff."));
        let c = fingerprint("A heron nested by the weir and the ferry ran late in the fog.");
        let shared = |x: &Fingerprint, y: &Fingerprint| {
            let ky = y.lsh_keys();
            x.lsh_keys().iter().filter(|k| ky.contains(k)).count()
        };
        assert!(shared(&a, &b) > 0);
        assert_eq!(shared(&a, &c), 0);
        assert_eq!(a.lsh_keys().len(), BUCKETS / LSH_ROWS);
        assert_eq!(a.lsh_keys(), fingerprint(&story.to_uppercase()).lsh_keys());
        assert!(fingerprint("").lsh_keys().is_empty());
    }

    #[test]
    fn unrelated_texts_do_not() {
        let a = fingerprint("The Kellbridge council approved the budget on Tuesday after a long debate about roads.");
        let b = fingerprint(
            "A heron nested by the weir and the ferry ran late because of fog over the estuary.",
        );
        assert!(a.similarity(&b) < 0.1);
    }

    #[test]
    fn empty_is_similar_to_nothing() {
        assert_eq!(fingerprint("").similarity(&fingerprint("")), 0.0);
        assert_eq!(fingerprint("").shingle_count(), 0);
        assert_eq!(fingerprint("two words").shingle_count(), 1);
        assert_eq!(
            fingerprint("two words").similarity(&fingerprint("Two, words.")),
            1.0
        );
    }

    #[test]
    fn bytes_round_trip_and_reject_junk() {
        let f = fingerprint("Some text about the Brackenford reservoir and its levels this year.");
        let g = Fingerprint::from_bytes(&f.to_bytes()).unwrap();
        assert_eq!(f, g);
        assert!(Fingerprint::from_bytes(b"VFP1").is_none());
        assert!(Fingerprint::from_bytes(&[0u8; 520]).is_none());
    }

    #[test]
    fn stable_across_builds() {
        // Fingerprints are stored on disk: the hash must never change silently.
        let f = fingerprint("one two three four");
        let bytes = f.to_bytes();
        assert_eq!(&bytes[..8], b"VFP1\x02\x00\x00\x00");
        let filled: Vec<(usize, u32)> = f
            .mins
            .iter()
            .enumerate()
            .filter(|(_, m)| **m != EMPTY)
            .map(|(i, m)| (i, *m))
            .collect();
        assert_eq!(filled.len(), 2);
        insta_like_snapshot(&filled);
    }

    /// Pin the exact values so an accidental hash change fails loudly.
    fn insta_like_snapshot(filled: &[(usize, u32)]) {
        let expected = STABLE_SNAPSHOT;
        if expected.is_empty() {
            panic!("record this snapshot: {filled:?}");
        }
        assert_eq!(filled, expected);
    }

    const STABLE_SNAPSHOT: &[(usize, u32)] = &[(34, 2256020930), (39, 2327177623)];
}
