//! `usbN` (USB.pm `$usb_fmt`, `parse_usb_device`): a host USB device or a SPICE redirection slot.

use crate::pve::props::Props;
use crate::pve::schema::UsbOpts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbHost {
    /// Lower-case hex, without `0x`.
    VendorProduct {
        vendor: String,
        product: String,
    },
    /// `1-2.3`: host bus 1, port path 2.3.
    BusPort {
        bus: String,
        port: String,
    },
    Spice,
}

impl UsbHost {
    /// The schema checked the three shapes (checks::usb_host).
    pub fn parse(s: &str) -> Option<UsbHost> {
        if s.eq_ignore_ascii_case("spice") {
            return Some(UsbHost::Spice);
        }
        if let Some((v, p)) = s.split_once(':') {
            let id = |x: &str| x.strip_prefix("0x").unwrap_or(x).to_ascii_lowercase();
            return Some(UsbHost::VendorProduct { vendor: id(v), product: id(p) });
        }
        let (bus, port) = s.split_once('-')?;
        Some(UsbHost::BusPort { bus: bus.to_owned(), port: port.to_owned() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usb {
    pub host: Option<UsbHost>,
    pub mapping: Option<String>,
    pub usb3: bool,
}

impl Usb {
    pub fn from_props(props: &Props) -> Usb {
        let p = UsbOpts { props };
        Usb { host: p.host().and_then(UsbHost::parse), mapping: p.mapping().map(str::to_owned), usb3: p.usb3() }
    }
}
