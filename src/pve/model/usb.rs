//! `usbN` (USB.pm `$usb_fmt`, `parse_usb_device`): a host USB device or a SPICE redirection slot.

use crate::pve::props::Props;
use crate::pve::schema::UsbOpts;
use std::str::FromStr;

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

/// A `host` that is none of [`UsbHost`]'s three shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUsbHost;

impl FromStr for UsbHost {
    type Err = NotUsbHost;

    /// USB.pm `parse_usb_device`: `(0x)?XXXX:(0x)?XXXX`, `\d+-\d+(\.\d+)*`, or `spice` (only
    /// `spice` is case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("spice") {
            return Ok(UsbHost::Spice);
        }
        let id = |x: &str| {
            let h = x.strip_prefix("0x").unwrap_or(x);
            (h.len() == 4 && h.bytes().all(|c| c.is_ascii_hexdigit())).then(|| h.to_ascii_lowercase())
        };
        if let Some((Some(vendor), Some(product))) = s.split_once(':').map(|(v, p)| (id(v), id(p))) {
            return Ok(UsbHost::VendorProduct { vendor, product });
        }
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
        match s.split_once('-') {
            Some((bus, port)) if digits(bus) && port.split('.').all(digits) => {
                Ok(UsbHost::BusPort { bus: bus.to_owned(), port: port.to_owned() })
            }
            _ => Err(NotUsbHost),
        }
    }
}

impl UsbHost {
    /// `None` for anything [`FromStr`] refuses.
    pub fn parse(s: &str) -> Option<UsbHost> {
        s.parse().ok()
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
        let host = p.usb_host().map(|h| h.value.clone());
        Usb { host, mapping: p.mapping().map(str::to_owned), usb3: p.usb3() }
    }
}
