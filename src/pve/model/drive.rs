//! Drives (`ideN`, `sataN`, `scsiN`, `virtioN`; Drive.pm `%drivedesc_base` and the per-bus
//! extras, docs/proxmox-config.md#keys) read from checked property strings.

use crate::pve::props::Props;
use crate::pve::schema::{
    Aio, Cache, Discard, EfiDiskOpts, IdeOpts, ImageFormat, Media, Rerror, SataOpts, ScsiOpts, TpmFormat, TpmStateOpts,
    VirtioOpts, Werror,
};
use crate::pve::vm::VmConfig;
use crate::report::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bus {
    Ide,
    Sata,
    Scsi,
    Virtio,
}

impl Bus {
    pub const ALL: [Bus; 4] = [Bus::Ide, Bus::Scsi, Bus::Virtio, Bus::Sata];

    pub fn prefix(self) -> &'static str {
        match self {
            Bus::Ide => "ide",
            Bus::Sata => "sata",
            Bus::Scsi => "scsi",
            Bus::Virtio => "virtio",
        }
    }
    pub fn count(self) -> u32 {
        match self {
            Bus::Ide => 4,
            Bus::Sata => 6,
            Bus::Scsi => 31,
            Bus::Virtio => 16,
        }
    }
}

/// One throttling limit: `<base>` (bytes or IOs per second), `<base>_max` (burst), and the burst
/// length in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Limit {
    pub rate: Option<u64>,
    pub max: Option<u64>,
    pub max_length: Option<u64>,
}

impl Limit {
    pub fn is_set(&self) -> bool {
        self.rate.is_some() || self.max.is_some() || self.max_length.is_some()
    }
}

/// Throttling of one direction (total, read, write) in bytes/s and IOs/s.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Throttle {
    pub bytes: [Limit; 3],
    pub iops: [Limit; 3],
}

pub const DIRECTIONS: [&str; 3] = ["", "_rd", "_wr"];

/// A drive's typed sub-keys: the bus's own format view (Drive.pm gives each bus its extras).
#[derive(Debug, Clone, Copy)]
pub enum DriveOpts<'a> {
    Ide(IdeOpts<'a>),
    Sata(SataOpts<'a>),
    Scsi(ScsiOpts<'a>),
    Virtio(VirtioOpts<'a>),
}

/// The sub-keys every bus has (`%drivedesc_base`), read through whichever view the drive has.
macro_rules! common_subkeys {
    ($($field:ident: $ty:ty),* $(,)?) => {
        impl<'a> DriveOpts<'a> {
            $(
                pub fn $field(&self) -> $ty {
                    match self {
                        DriveOpts::Ide(o) => o.$field(),
                        DriveOpts::Sata(o) => o.$field(),
                        DriveOpts::Scsi(o) => o.$field(),
                        DriveOpts::Virtio(o) => o.$field(),
                    }
                }
            )*
        }
    };
}

common_subkeys! {
    file: Option<&'a str>,
    media: Option<Media>,
    snapshot: bool,
    cache: Option<Cache>,
    format: Option<ImageFormat>,
    size: Option<u64>,
    rerror: Option<Rerror>,
    werror: Option<Werror>,
    aio: Option<Aio>,
    discard: Option<Discard>,
    detect_zeroes: Option<bool>,
    serial: Option<&'a str>,
}

impl<'a> DriveOpts<'a> {
    /// scsi and virtio only.
    pub fn iothread(&self) -> bool {
        match self {
            DriveOpts::Scsi(o) => o.iothread(),
            DriveOpts::Virtio(o) => o.iothread(),
            DriveOpts::Ide(_) | DriveOpts::Sata(_) => false,
        }
    }
    /// scsi and virtio only.
    pub fn ro(&self) -> bool {
        match self {
            DriveOpts::Scsi(o) => o.ro(),
            DriveOpts::Virtio(o) => o.ro(),
            DriveOpts::Ide(_) | DriveOpts::Sata(_) => false,
        }
    }
    /// Not on virtio.
    pub fn ssd(&self) -> bool {
        match self {
            DriveOpts::Ide(o) => o.ssd(),
            DriveOpts::Sata(o) => o.ssd(),
            DriveOpts::Scsi(o) => o.ssd(),
            DriveOpts::Virtio(_) => false,
        }
    }
    /// Not on virtio.
    pub fn wwn(&self) -> Option<&'a str> {
        match self {
            DriveOpts::Ide(o) => o.wwn(),
            DriveOpts::Sata(o) => o.wwn(),
            DriveOpts::Scsi(o) => o.wwn(),
            DriveOpts::Virtio(_) => None,
        }
    }
    /// ide only.
    pub fn model(&self) -> Option<&'a str> {
        match self {
            DriveOpts::Ide(o) => o.model(),
            DriveOpts::Sata(_) | DriveOpts::Scsi(_) | DriveOpts::Virtio(_) => None,
        }
    }
    /// The scsi view, for the scsi-only sub-keys (vendor, product, queues, scsiblock).
    pub fn scsi(&self) -> Option<ScsiOpts<'a>> {
        match self {
            DriveOpts::Scsi(o) => Some(*o),
            DriveOpts::Ide(_) | DriveOpts::Sata(_) | DriveOpts::Virtio(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Drive<'a> {
    pub key: String,
    pub bus: Bus,
    pub index: u32,
    pub file: &'a str,
    pub file_span: Span,
    pub props: &'a Props,
    pub cdrom: bool,
}

impl<'a> Drive<'a> {
    pub fn from_props(bus: Bus, index: u32, props: &'a Props) -> Self {
        let drive = Drive {
            key: format!("{}{index}", bus.prefix()),
            bus,
            index,
            file: "none",
            file_span: props.span_of("file"),
            props,
            cdrom: false,
        };
        let opts = drive.opts();
        Drive { file: opts.file().unwrap_or("none"), cdrom: opts.media() == Some(Media::Cdrom), ..drive }
    }

    /// The typed sub-keys.
    pub fn opts(&self) -> DriveOpts<'a> {
        let props = self.props;
        match self.bus {
            Bus::Ide => DriveOpts::Ide(IdeOpts { props }),
            Bus::Sata => DriveOpts::Sata(SataOpts { props }),
            Bus::Scsi => DriveOpts::Scsi(ScsiOpts { props }),
            Bus::Virtio => DriveOpts::Virtio(VirtioOpts { props }),
        }
    }

    pub fn iothread(&self) -> bool {
        self.opts().iothread()
    }
    pub fn ro(&self) -> bool {
        self.opts().ro()
    }
    pub fn ssd(&self) -> bool {
        self.opts().ssd()
    }
    pub fn snapshot(&self) -> bool {
        self.opts().snapshot()
    }
    /// scsi only.
    pub fn scsiblock(&self) -> bool {
        self.opts().scsi().is_some_and(|o| o.scsiblock())
    }
    /// The image format's name, for the storage resolver.
    pub fn format(&self) -> Option<&'static str> {
        self.opts().format().map(ImageFormat::as_str)
    }

    /// The throttling limits. Proxmox MB are MiB (Blockdev.pm multiplies by 1024·1024). The legacy
    /// `bps*` keys are turned into MB with three decimals by `parse_drive` first, so the same
    /// rounding is kept here.
    pub fn throttle(&self) -> Throttle {
        let p = self.props;
        let mib = |mb: f64| (mb * 1024.0 * 1024.0) as u64;
        let mut t = Throttle::default();
        for (i, dir) in DIRECTIONS.iter().enumerate() {
            let legacy = p.int(&format!("bps{dir}")).map(|b| ((b.max(0) as f64 / 1048576.0) * 1000.0).round() / 1000.0);
            let mbps = p.number(&format!("mbps{dir}")).or(legacy);
            t.bytes[i] = Limit {
                rate: mbps.filter(|v| *v > 0.0).map(mib),
                max: p.number(&format!("mbps{dir}_max")).filter(|v| *v > 0.0).map(mib),
                max_length: p.int(&format!("bps{dir}_max_length")).map(|v| v.max(0) as u64),
            };
            t.iops[i] = Limit {
                rate: p.int(&format!("iops{dir}")).filter(|v| *v > 0).map(|v| v as u64),
                max: p.int(&format!("iops{dir}_max")).filter(|v| *v > 0).map(|v| v as u64),
                max_length: p.int(&format!("iops{dir}_max_length")).map(|v| v.max(0) as u64),
            };
        }
        t
    }
}

impl VmConfig {
    /// Every drive (`cdrom` is already `ide2`), bus by bus in [`Bus::ALL`] order, then by index:
    /// Proxmox's drive order (Drive.pm `valid_drive_names`).
    pub fn drives(&self) -> Vec<Drive<'_>> {
        let keys = self.keys();
        let mut out = Vec::new();
        for bus in Bus::ALL {
            let entries: Vec<_> = match bus {
                Bus::Ide => keys.ide().collect(),
                Bus::Sata => keys.sata().collect(),
                Bus::Scsi => keys.scsi().collect(),
                Bus::Virtio => keys.virtio().collect(),
            };
            for (index, entry) in entries {
                if let Some(props) = entry.props() {
                    out.push(Drive::from_props(bus, u32::from(index), props));
                }
            }
        }
        out
    }
}

/// The volume of an `efidisk0` or `tpmstate0`: what resolving and carrying it needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateVolume<'a> {
    /// `none` when unset, as for drives (the schema requires it, so only in theory).
    pub file: &'a str,
    pub format: Option<&'static str>,
    pub size: Option<u64>,
    pub file_span: Span,
}

impl<'a> EfiDiskOpts<'a> {
    pub fn volume(&self) -> StateVolume<'a> {
        StateVolume {
            file: self.file().unwrap_or("none"),
            format: self.format().map(ImageFormat::as_str),
            size: self.size(),
            file_span: self.span_of("file"),
        }
    }
}

impl<'a> TpmStateOpts<'a> {
    pub fn volume(&self) -> StateVolume<'a> {
        StateVolume {
            file: self.file().unwrap_or("none"),
            format: self.format().map(TpmFormat::as_str),
            size: self.size(),
            file_span: self.span_of("file"),
        }
    }
}

/// Proxmox's url-encoded strings (`serial`, `model`): `%XX` decoded, invalid escapes kept.
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn url_decoding() {
        assert_eq!(super::url_decode("ab%2Ccd%20"), "ab,cd ");
        assert_eq!(super::url_decode("100%"), "100%");
        assert_eq!(super::url_decode("%zz"), "%zz");
    }
}
