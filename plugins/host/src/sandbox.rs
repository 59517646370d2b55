//! Deterministic stand-ins for WASI clocks and randomness: a run sees the event's time and
//! randomness seeded from the event id, so replaying a run reproduces it exactly.

use std::time::Duration;

use chrono::{DateTime, Utc};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// A wall clock stopped at the event's time.
pub(crate) struct FixedWallClock(Duration);

impl FixedWallClock {
    pub(crate) fn at(t: DateTime<Utc>) -> Self {
        let nanos = t.timestamp_nanos_opt().unwrap_or(0).max(0) as u64;
        FixedWallClock(Duration::from_nanos(nanos))
    }
}

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}

/// A monotonic clock that does not move.
pub(crate) struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// SplitMix64: small, fast, deterministic. Not cryptographic, and plugins get no secrets.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for SplitMix64 {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}
