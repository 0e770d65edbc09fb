//! Recall and latency of HNSW against exact search.
//!
//! cargo run --release -p verity-vectors --example bench_vectors -- [N] [DIM] [NOISE]
//!
//! Vectors are clustered unit vectors (NOISE = spread around 1,000 cluster centres; a large
//! value such as 5 approaches uniformly random vectors, the hardest case for a graph).
//! With `--file VECTORS.f32` (raw little-endian rows, e.g. from verity-embed's
//! `embed_corpus` example), real embeddings are used instead: the last 200 rows are the
//! queries.
#![allow(clippy::unwrap_used, clippy::type_complexity)]
use std::collections::HashSet;
use std::time::Instant;

use verity_types::{PassageId, SourceId};
use verity_vectors::{recall, ExactIndex, HnswIndex, HnswParams, VectorIndex};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn normal(&mut self) -> f32 {
        (0..4)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
            .sum::<f32>()
            - 2.0
    }
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let file = match all.iter().position(|a| a == "--file") {
        Some(i) => Some(all.get(i + 1).ok_or("--file needs a path")?.clone()),
        None => None,
    };
    let mut args = all
        .into_iter()
        .filter(|a| a != "--file" && Some(a) != file.as_ref());
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(50_000);
    let dim: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(384);
    let noise: f32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let centres: Vec<Vec<f32>> = (0..1000)
        .map(|_| unit((0..dim).map(|_| rng.normal()).collect()))
        .collect();
    let sample = |rng: &mut Rng| {
        let c = &centres[(rng.next() % centres.len() as u64) as usize];
        unit(
            c.iter()
                .map(|x| x + noise * rng.normal() / (dim as f32).sqrt())
                .collect(),
        )
    };
    let (vectors, queries): (Vec<Vec<f32>>, Vec<Vec<f32>>) = match &file {
        Some(path) => {
            let bytes = std::fs::read(path)?;
            let mut rows: Vec<Vec<f32>> = bytes
                .chunks_exact(dim * 4)
                .map(|r| {
                    r.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                })
                .collect();
            let queries = rows.split_off(rows.len().saturating_sub(200));
            rows.truncate(n);
            (rows, queries)
        }
        None => (
            (0..n).map(|_| sample(&mut rng)).collect(),
            (0..200).map(|_| sample(&mut rng)).collect(),
        ),
    };
    let n = vectors.len();
    // 10 passages per source.
    let items: Vec<(PassageId, Vec<f32>)> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            (
                PassageId {
                    source: SourceId::new(format!("s{}", i / 10)),
                    ordinal: (i % 10) as u32,
                },
                v,
            )
        })
        .collect();

    let t = Instant::now();
    let what = file
        .clone()
        .unwrap_or_else(|| format!("synthetic, noise {noise}"));
    let mut exact = ExactIndex::new(dim, "bench");
    exact.add(&items)?;
    println!(
        "{n} vectors, dim {dim} ({what}); exact add {:.2}s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let mut hnsw = HnswIndex::new(dim, "bench", HnswParams::default());
    hnsw.add(&items)?;
    println!(
        "hnsw build (M=16, ef_construction=100, {} threads): {:.1}s",
        rayon::current_num_threads(),
        t.elapsed().as_secs_f64()
    );

    let time = |f: &dyn Fn(&[f32]) -> Vec<(PassageId, f32)>| {
        let t = Instant::now();
        let out: Vec<_> = queries.iter().map(|q| f(q)).collect();
        (
            out,
            t.elapsed().as_secs_f64() * 1000.0 / queries.len() as f64,
        )
    };
    let (truth, exact_ms) = time(&|q| exact.search(q, 10, None).unwrap_or_default());
    println!("exact: {exact_ms:.2} ms/query");
    for ef in [32, 64, 96, 128, 200] {
        hnsw.set_ef_search(ef);
        let (got, ms) = time(&|q| hnsw.search(q, 10, None).unwrap_or_default());
        let r: f64 = truth
            .iter()
            .zip(&got)
            .map(|(e, a)| recall(e, a))
            .sum::<f64>()
            / truth.len() as f64;
        println!(
            "hnsw ef_search {ef:>3}: recall@10 {r:.4}, {ms:.3} ms/query ({:.0}x faster)",
            exact_ms / ms
        );
    }
    hnsw.set_ef_search(HnswParams::default().ef_search);
    for share in [2usize, 10] {
        // Every `share`-th source allowed: 50% and 10% of the passages.
        let allowed: HashSet<SourceId> = (0..n / 10)
            .filter(|s| s % share == 0)
            .map(|s| SourceId::new(format!("s{s}")))
            .collect();
        let (truth, exact_ms) = time(&|q| exact.search(q, 10, Some(&allowed)).unwrap_or_default());
        let (got, ms) = time(&|q| hnsw.search(q, 10, Some(&allowed)).unwrap_or_default());
        let r: f64 = truth
            .iter()
            .zip(&got)
            .map(|(e, a)| recall(e, a))
            .sum::<f64>()
            / truth.len() as f64;
        println!(
            "filter {}% of sources: exact {exact_ms:.2} ms, hnsw {ms:.3} ms, recall@10 {r:.4}",
            100 / share
        );
    }

    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let disk = HnswIndex::from_exact(
        {
            let mut e = ExactIndex::create(dir.path(), dim, "bench");
            e.add(&items)?;
            e
        },
        HnswParams::default(),
    );
    let build2 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    disk.save()?;
    let save_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let back = HnswIndex::open(dir.path(), HnswParams::default())?;
    println!(
        "from_exact build {build2:.1}s, save {save_s:.2}s, open {:.2}s, {} vectors",
        t.elapsed().as_secs_f64(),
        back.len()
    );
    Ok(())
}
