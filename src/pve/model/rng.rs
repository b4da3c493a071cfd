//! `rng0` (RNG.pm): a VirtIO RNG fed from a host entropy source, optionally rate limited.

use crate::pve::defaults;
use crate::pve::props::Props;
use crate::report::{Span, Spanned};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RngSource {
    Urandom,
    Random,
    Hwrng,
}

impl RngSource {
    pub fn path(self) -> &'static str {
        match self {
            RngSource::Urandom => "/dev/urandom",
            RngSource::Random => "/dev/random",
            RngSource::Hwrng => "/dev/hwrng",
        }
    }
    fn from_path(path: &str) -> Option<Self> {
        [RngSource::Urandom, RngSource::Random, RngSource::Hwrng].into_iter().find(|s| s.path() == path)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rng {
    pub source: Spanned<RngSource>,
    /// As written; `None` means Proxmox's default.
    pub max_bytes: Option<Spanned<u64>>,
    pub period: Option<Spanned<u64>>,
}

/// What the guest may read: `bytes` every `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngLimit {
    pub bytes: u64,
    pub period_ms: u64,
}

impl Rng {
    /// Reads a checked rng0 property string. The schema already guarantees the source is one of
    /// the three paths and the numbers are non-negative (`period` ≥ 1).
    pub fn from_props(props: &Props) -> Rng {
        let source = props.get("source").map(|p| {
            Spanned::new(
                RngSource::from_path(p.value.as_str().unwrap_or_default()).unwrap_or(RngSource::Urandom),
                p.span(),
            )
        });
        let number = |name: &str| {
            props.get(name).and_then(|p| p.value.as_int().map(|v| Spanned::new(v.max(0) as u64, p.span())))
        };
        Rng {
            source: source.unwrap_or_else(|| Spanned::new(RngSource::Urandom, Span::default())),
            max_bytes: number("max_bytes"),
            period: number("period"),
        }
    }

    /// The effective limiter: Proxmox's defaults (1024 bytes per 1000 ms) where a value is absent;
    /// `None` when `max_bytes=0`, which turns the limiter off.
    pub fn limit(&self) -> Option<RngLimit> {
        let bytes = self.max_bytes.as_ref().map_or(defaults::RNG_MAX_BYTES, |b| b.value);
        let period_ms = self.period.as_ref().map_or(defaults::RNG_PERIOD_MS, |p| p.value);
        (bytes > 0).then_some(RngLimit { bytes, period_ms })
    }
}
