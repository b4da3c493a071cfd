//! `rng0` → `<rng model='virtio'>` (docs/mapping.md#rng).
//!
//! The limiter is written whenever it is on, with `period` always explicit: QEMU's own default
//! period differs from Proxmox's 1000 ms, so leaving it out would change the rate. `max_bytes=0`
//! (limiter off) writes no `<rate>` at all: libvirt's schema rejects `bytes='0'`, and its parser
//! silently drops such a `<rate>`.

use crate::libvirt::{Domain, DomainRng, DomainRngBackend, DomainRngRate};
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::model::rng::Rng;
use crate::pve::schema::Key;
use crate::report::{code, Note};

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(props) = ctx.vm.keys().rng0() else {
        return;
    };
    let Some(rng) = Rng::from_props(props) else {
        // Not reached: decode refuses a missing or unknown source (model::rng's tests). Should
        // the schema and the model ever differ, an error, not a guessed entropy source.
        ctx.note_on(Key::rng0, Note::error(code::BAD_VALUE, "this rng0 source is not translated"));
        return;
    };
    // RNG first: the address borrows the context mutably.
    domain.devices.rngs.push(DomainRng {
        model: "virtio".into(),
        rate: rng.limit().map(|limit| DomainRngRate { bytes: limit.bytes, period: limit.period_ms }),
        backend: DomainRngBackend { model: "random".into(), source: rng.source.path().to_owned() },
        address: ctx.pci_address(PciDevice::Rng),
    });
    ctx.mapped(Key::rng0, "devices/rng");
}
