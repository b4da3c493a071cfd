//! `vga` (QemuServer.pm `$vga_fmt`, docs/proxmox-config.md#display): what each display type means
//! to Proxmox, matched over every type the schema allows.

use crate::pve::schema::Vga;

impl Vga {
    /// qxl and virtio displays also get a SPICE server (QemuServer.pm `config_to_command`).
    pub fn is_spice(self) -> bool {
        match self {
            Vga::Qxl | Vga::Qxl2 | Vga::Qxl3 | Vga::Qxl4 | Vga::Virtio | Vga::VirtioGl => true,
            Vga::Cirrus
            | Vga::None
            | Vga::Serial0
            | Vga::Serial1
            | Vga::Serial2
            | Vga::Serial3
            | Vga::Std
            | Vga::Vmware => false,
        }
    }

    /// `serialN`: Proxmox's `-nographic`, the serial port N is the console.
    pub fn serial_console(self) -> Option<u8> {
        match self {
            Vga::Serial0 => Some(0),
            Vga::Serial1 => Some(1),
            Vga::Serial2 => Some(2),
            Vga::Serial3 => Some(3),
            Vga::Cirrus
            | Vga::Qxl
            | Vga::Qxl2
            | Vga::Qxl3
            | Vga::Qxl4
            | Vga::None
            | Vga::Std
            | Vga::Virtio
            | Vga::VirtioGl
            | Vga::Vmware => None,
        }
    }

    /// `qxl` (1 head) to `qxl4`: the number of heads.
    pub fn qxl_heads(self) -> Option<u32> {
        match self {
            Vga::Qxl => Some(1),
            Vga::Qxl2 => Some(2),
            Vga::Qxl3 => Some(3),
            Vga::Qxl4 => Some(4),
            Vga::Cirrus
            | Vga::None
            | Vga::Serial0
            | Vga::Serial1
            | Vga::Serial2
            | Vga::Serial3
            | Vga::Std
            | Vga::Virtio
            | Vga::VirtioGl
            | Vga::Vmware => None,
        }
    }

    /// No emulated display at all (`none`, or a serial console).
    pub fn no_display(self) -> bool {
        self == Vga::None || self.serial_console().is_some()
    }
}
