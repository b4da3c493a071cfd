//! placeholder
pub static KEYS: &[super::KeySpec] = &[];
