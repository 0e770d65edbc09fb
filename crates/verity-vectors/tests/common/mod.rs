//! Deterministic clustered unit vectors, a stand-in for sentence embeddings.
#![allow(dead_code)]

use verity_types::{PassageId, SourceId};

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Roughly normal (sum of uniforms).
    pub fn normal(&mut self) -> f32 {
        (0..4)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 24) as f32)
            .sum::<f32>()
            - 2.0
    }
}

pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

/// `n` vectors in `clusters` clusters; passage `i` belongs to source `s{i / per_source}`.
pub fn clustered(
    n: usize,
    dim: usize,
    clusters: usize,
    per_source: usize,
    seed: u64,
) -> Vec<(PassageId, Vec<f32>)> {
    let mut rng = Rng(seed | 1);
    let centres: Vec<Vec<f32>> = (0..clusters)
        .map(|_| unit((0..dim).map(|_| rng.normal()).collect()))
        .collect();
    (0..n)
        .map(|i| {
            let c = &centres[(rng.next() % clusters as u64) as usize];
            let v = c
                .iter()
                .map(|x| x + 0.6 * rng.normal() / (dim as f32).sqrt())
                .collect();
            (
                PassageId {
                    source: SourceId::new(format!("s{}", i / per_source)),
                    ordinal: (i % per_source) as u32,
                },
                unit(v),
            )
        })
        .collect()
}
