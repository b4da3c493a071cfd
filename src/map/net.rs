//! Placeholder: filled in by the net family.

use crate::libvirt::Domain;
use crate::map::Ctx;

pub fn map(_ctx: &mut Ctx, _domain: &mut Domain) {}
