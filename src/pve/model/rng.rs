//! `rng0` (RNG.pm): a VirtIO RNG fed from a host entropy source, optionally rate limited.

use crate::pve::schema::RngOpts;
use crate::report::Spanned;

pub use crate::pve::schema::RngSource;

impl RngSource {
    pub fn path(self) -> &'static str {
        self.as_str()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rng {
    pub source: Spanned<RngSource>,
    /// With Proxmox's defaults applied (`RngOpts`); the span is the value's when unset.
    pub max_bytes: Spanned<u64>,
    pub period: Spanned<u64>,
}

/// What the guest may read: `bytes` every `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngLimit {
    pub bytes: u64,
    pub period_ms: u64,
}

impl Rng {
    /// Reads a checked rng0 property string. The schema already guarantees that `source` is set
    /// and is one of the three paths (so `None` is not reached: tests::source_is_the_schema_enum),
    /// and that the numbers are non-negative (`period` ≥ 1).
    pub fn from_props(opts: RngOpts) -> Option<Rng> {
        let source = Spanned::new(opts.source()?, opts.span_of("source"));
        let number = |v: i64, name: &'static str| Spanned::new(v.max(0) as u64, opts.span_of(name));
        Some(Rng { source, max_bytes: number(opts.max_bytes(), "max_bytes"), period: number(opts.period(), "period") })
    }

    /// The effective limiter; `None` when `max_bytes=0`, which turns the limiter off.
    pub fn limit(&self) -> Option<RngLimit> {
        let (bytes, period_ms) = (self.max_bytes.value, self.period.value);
        (bytes > 0).then_some(RngLimit { bytes, period_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::RngSource;
    use crate::pve::schema::{ValueType, RNG};
    use crate::report::code;

    /// The schema's rng0 sources are exactly RngSource's paths, and decode refuses any other
    /// source and a missing one. So the old `unwrap_or(RngSource::Urandom)` fallbacks (for an
    /// unknown path, and for no source) were dead: no decoded config reaches them.
    #[test]
    fn source_is_the_schema_enum() {
        let source = RNG.keys.iter().find(|k| k.name == "source").expect("rng0 has a source");
        let ValueType::Enum(paths) = source.ty else { panic!("source is not an enum") };
        assert!(source.required);
        assert_eq!(paths, RngSource::NAMES);
        let opts = crate::Options { vmid: Some(100), ..Default::default() };
        let codes = |text: &str| crate::convert(text, &opts).unwrap_err().iter().map(|n| n.code).collect::<Vec<_>>();
        assert_eq!(codes("rng0: source=/dev/zero\n"), [code::BAD_VALUE]);
        assert_eq!(codes("rng0: max_bytes=10\n"), [code::MISSING_SUBKEY]);
    }
}
