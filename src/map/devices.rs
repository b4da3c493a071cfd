//! The remaining devices and settings: display and consoles, serial and parallel ports, the guest
//! agent, audio, watchdog, shared memory, virtio-fs, confidential computing, and the
//! Proxmox-only settings that have no domain-XML form (cloud-init, hookscript, migration tuning…)
//! — each translated or reported (docs/mapping.md#serial-parallel-agent, #display-and-audio,
//! #other-devices, #no-libvirt-form).

use crate::libvirt::{
    Domain, DomainAudio, DomainChardev, DomainChardevClipboard, DomainChardevMouse, DomainChardevSource,
    DomainChardevTarget, DomainController, DomainGraphics, DomainGraphicsListen, DomainGraphicsSpice,
    DomainGraphicsStreaming, DomainGraphicsVnc, DomainMemory, DomainShmem, DomainShmemModel, DomainSound,
    DomainSoundAudio, DomainSoundCodec, DomainVideo, DomainVideoAcceleration, DomainVideoModel, DomainWatchdog,
};
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::model::usb::UsbHost;
use crate::pve::schema::Key;
use crate::pve::schema::{
    AgentType, Arch, AudioDevice, AudioDriver, Bios, Clipboard, SpiceEnhancementsOpts, UsbOpts, Vga, VideoStreaming,
    VirtiofsOpts, WatchdogAction, WatchdogOpts,
};
use crate::report::{code, Note};

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    display(ctx, domain);
    serial_and_parallel(ctx, domain);
    agent(ctx, domain);
    audio(ctx, domain);
    watchdog(ctx, domain);
    ivshmem(ctx, domain);
    virtiofs(ctx, domain);
    proxmox_only(ctx);
    fit_spice(ctx, domain);
}

/// A target whose QEMU has no SPICE (`<devices><graphics><enum name='type'>` without `spice`:
/// RHEL 9 builds it so) cannot start a SPICE server, its channels, SPICE audio or USB
/// redirection: they are left out, VNC stays the console.
fn fit_spice(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(target) = &ctx.opts.target else { return };
    let Some(dc) = target.domcaps_for(&domain.os.os_type.arch, ctx.is_q35(), domain.domain_type) else { return };
    let graphics = dc.devices.as_ref().and_then(|d| d.graphics.as_ref());
    if graphics.and_then(|g| g.allows("type", "spice")) != Some(false) {
        return;
    }
    let before = (domain.devices.graphics.len(), domain.devices.channels.len(), domain.devices.redirdevs.len());
    domain.devices.graphics.retain(|g| !matches!(g, DomainGraphics::Spice(_)));
    domain
        .devices
        .channels
        .retain(|c| !matches!(c.source, DomainChardevSource::Spicevmc | DomainChardevSource::Spiceport { .. }));
    domain.devices.redirdevs.retain(|r| r.redirdev_type != "spicevmc");
    let spice_audio = domain.devices.audios.iter().any(|a| a.audio_type == "spice");
    for audio in domain.devices.audios.iter_mut().filter(|a| a.audio_type == "spice") {
        audio.audio_type = "none".into();
    }
    let after = (domain.devices.graphics.len(), domain.devices.channels.len(), domain.devices.redirdevs.len());
    if before == after && !spice_audio {
        return;
    }
    // The advice about SPICE's plain listener no longer applies.
    ctx.notes.retain(|n| n.code != code::SPICE_PLAIN);
    for (_, codes) in ctx.outcomes.values_mut() {
        codes.retain(|c| *c != code::SPICE_PLAIN);
    }
    let describe = target.describe();
    let note = Note::warning(
        code::DEVICE_MODEL_FALLBACK,
        format!("the target ({describe}) has no SPICE: the SPICE display, its channels, audio and USB redirection are left out"),
    )
    .help("use the VNC console; the guest's SPICE agent and redirected USB devices have no counterpart there");
    let keys = ctx.vm.keys();
    let key = if keys.vga().is_some() {
        Some(Key::vga)
    } else if keys.audio0().is_some() {
        Some(Key::audio0)
    } else {
        None
    };
    match key {
        Some(k) => ctx.note_on(k, note),
        None => ctx.note(note),
    }
}

/// The virtio-serial controller a channel needs, at the slot Proxmox gives its own (`qga0` 0x8,
/// `spice` 0x9). Returns its controller index.
fn virtio_serial(ctx: &mut Ctx, domain: &mut Domain, slot: PciDevice) -> u32 {
    let index = domain.devices.controllers.iter().filter(|c| c.controller_type == "virtio-serial").count() as u32;
    let address = ctx.pci_address(slot);
    domain.devices.controllers.push(DomainController {
        controller_type: "virtio-serial".into(),
        index,
        address,
        ..Default::default()
    });
    index
}

/// The display types of `vga: type=` (QemuServer.pm `$vga_fmt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VgaType {
    Std,
    Cirrus,
    Vmware,
    Virtio,
    VirtioGl,
    /// `qxl` (1 head) to `qxl4`.
    Qxl(u32),
    /// `serial0`–`serial3`: no display, the serial port is the console.
    Serial(u8),
    NoDisplay,
}

impl VgaType {
    /// `None` only for a type outside the schema's enum, which decode refuses before mapping.
    fn parse(s: &str) -> Option<Self> {
        Some(match Vga::parse(s)? {
            Vga::Std => VgaType::Std,
            Vga::Cirrus => VgaType::Cirrus,
            Vga::Vmware => VgaType::Vmware,
            Vga::Virtio => VgaType::Virtio,
            Vga::VirtioGl => VgaType::VirtioGl,
            Vga::Qxl => VgaType::Qxl(1),
            Vga::Qxl2 => VgaType::Qxl(2),
            Vga::Qxl3 => VgaType::Qxl(3),
            Vga::Qxl4 => VgaType::Qxl(4),
            Vga::Serial0 => VgaType::Serial(0),
            Vga::Serial1 => VgaType::Serial(1),
            Vga::Serial2 => VgaType::Serial(2),
            Vga::Serial3 => VgaType::Serial(3),
            Vga::None => VgaType::NoDisplay,
        })
    }
}

/// What the consoles (`<graphics>`) and the SPICE channels take from `vga`, `keyboard` and
/// `spice_enhancements`.
struct Console<'a> {
    keymap: Option<String>,
    /// A qxl or virtio display: Proxmox gives it a SPICE server and the vdagent channel.
    spice: bool,
    /// `clipboard=vnc`: Proxmox's qemu-vdagent, which owns the vdagent port name.
    vnc_clipboard: bool,
    enhancements: Option<SpiceEnhancementsOpts<'a>>,
}

/// `vga` (QemuServer.pm `$vga_fmt`, docs/proxmox-config.md#display), `spice_enhancements`, `keyboard`.
fn display(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let props = vm.keys().vga();
    let kind = vm.vga_type();
    let vga = kind.as_str().to_owned();
    let memory_mib = props.and_then(|p| p.memory()).map(|m| m as u32);
    if props.is_some() {
        ctx.mapped(Key::vga, "devices/video");
    }
    let console = Console {
        keymap: vm.keys().keyboard().map(|k| k.as_str().to_owned()),
        spice: kind.is_spice(),
        vnc_clipboard: props.and_then(|p| p.clipboard()) == Some(Clipboard::Vnc),
        enhancements: vm.keys().spice_enhancements(),
    };
    // Without a display, Proxmox turns SMM off for SeaBIOS guests (QemuServer.pm `config_to_command`).
    if kind.no_display() && vm.bios() != Bios::Ovmf && vm.arch() != Arch::Aarch64 {
        domain.features.smm = Some(crate::libvirt::DomainFeatureState::OFF);
    }
    let Some(vga_type) = VgaType::parse(&vga) else {
        // Not reached: every type the schema accepts parses (tests::vga_type_is_the_schema_enum).
        // Should the two ever differ, an error, not a guessed display.
        ctx.note_on(Key::vga, Note::error(code::BAD_VALUE, "this display type is not translated"));
        return;
    };
    let mut videos = videos(ctx, vga_type, memory_mib);
    fit_video(ctx, domain, &mut videos);
    for (i, model) in videos.into_iter().enumerate() {
        let address = match (i, model.model_type.as_str()) {
            (_, "none") => None,
            (0, _) => ctx.pci_address(PciDevice::Vga),
            (n, _) => ctx.pci_address(PciDevice::VgaHead(n as u32)),
        };
        domain.devices.videos.push(DomainVideo { model, address });
    }
    // `vga: serialN` is Proxmox's `-nographic` (QemuServer.pm `config_to_command`): no VNC server.
    graphics(ctx, domain, &console, kind.serial_console().is_some());
    keyboard(ctx, domain, &console);
    spice_enhancements(ctx, &console);
    if console.vnc_clipboard {
        vnc_clipboard(ctx, domain, &console);
    }
}

fn video_model(t: &'static str) -> DomainVideoModel {
    DomainVideoModel { model_type: t.into(), ..Default::default() }
}

/// The `<video>` models of a display type, sized from `vga: memory` where Proxmox sizes them
/// (std and vmware take it as VRAM, qxl as all three of its memories).
fn videos(ctx: &mut Ctx, vga_type: VgaType, memory_mib: Option<u32>) -> Vec<DomainVideoModel> {
    match vga_type {
        VgaType::Std => vec![DomainVideoModel { vram: Some(memory_mib.unwrap_or(16) * 1024), ..video_model("vga") }],
        VgaType::Cirrus => vec![video_model("cirrus")],
        VgaType::Vmware => vec![DomainVideoModel { vram: memory_mib.map(|m| m * 1024), ..video_model("vmvga") }],
        VgaType::Virtio => vec![video_model("virtio")],
        VgaType::VirtioGl => {
            ctx.note_on(
                Key::vga,
                Note::warning(code::VGA_GL_NEEDS_RENDER_NODE, "virtio-gl needs OpenGL on the target: a <gl> render node on the SPICE graphics, or egl-headless")
                    .help("add <gl enable='yes' rendernode='/dev/dri/renderD128'/> to the SPICE graphics if the target has a GPU"),
            );
            vec![DomainVideoModel {
                acceleration: Some(DomainVideoAcceleration { accel3d: "yes".into() }),
                ..video_model("virtio")
            }]
        }
        VgaType::Qxl(heads) => qxl(heads, memory_mib, ctx.vm.windows_version() > 0),
        VgaType::NoDisplay => vec![video_model("none")],
        VgaType::Serial(n) => {
            ctx.note_on(
                Key::vga,
                Note::advice(
                    code::VGA_SERIAL_CONSOLE,
                    format!("vga: serial{n} means no display, only the serial console"),
                )
                .help("connect with `virsh console`"),
            );
            vec![video_model("none")]
        }
    }
}

/// `qxl`–`qxl4`. Proxmox: vgamem = memory, ram = 4 × memory, vram = 2 × memory (QemuServer.pm
/// `print_vga_device`); Windows gets one qxl device per monitor, other guests one device with
/// several heads.
fn qxl(heads: u32, memory_mib: Option<u32>, windows: bool) -> Vec<DomainVideoModel> {
    let sized = |primary| DomainVideoModel {
        ram: memory_mib.map(|m| m * 4 * 1024),
        vram: memory_mib.map(|m| m * 2 * 1024),
        vgamem: memory_mib.map(|m| m * 1024),
        primary,
        ..video_model("qxl")
    };
    if !windows {
        return vec![DomainVideoModel { heads: Some(heads), ..sized(Some("yes".into())) }];
    }
    let mut videos = vec![DomainVideoModel { heads: Some(1), ..sized(Some("yes".into())) }];
    for _ in 1..heads {
        videos.push(DomainVideoModel { heads: Some(1), ..sized(None) });
    }
    videos
}

/// 127.0.0.1 only: Proxmox too exposes its consoles only through its own proxies.
fn local_listen() -> Option<DomainGraphicsListen> {
    Some(DomainGraphicsListen { listen_type: "address".into(), address: Some("127.0.0.1".into()), socket: None })
}

/// Proxmox's console is VNC, except with a serial console; qxl and virtio displays also get SPICE.
fn graphics(ctx: &mut Ctx, domain: &mut Domain, console: &Console, serial_console: bool) {
    let vm = ctx.vm;
    if !serial_console {
        domain.devices.graphics.push(DomainGraphics::Vnc(DomainGraphicsVnc {
            autoport: Some("yes".into()),
            keymap: console.keymap.clone(),
            listen: local_listen(),
            ..Default::default()
        }));
    }
    // USB redirection (`usbN: spice`) needs a SPICE server even with a VGA display: QEMU takes a
    // spicevmc chardev without one, libvirt refuses it. The server is host-side only; the guest
    // gets no extra device (no vdagent channel, unlike a qxl/virtio display).
    // USB.pm takes `spice` in any case (`usb0: host=SPICE`).
    let spice_usb = vm
        .keys()
        .usb()
        .any(|(_, e)| UsbOpts::of(e).and_then(|u| u.usb_host()).is_some_and(|h| *h.value == UsbHost::Spice));
    // Spice audio (`audio0` with driver spice, Proxmox's default) is played through the SPICE
    // server; libvirt refuses it without SPICE graphics ("Spice audio is not supported without
    // spice graphics" at define), while QEMU runs it with no client attached.
    let spice_audio = vm.keys().audio0().is_some_and(|p| p.driver() != Some(AudioDriver::None));
    // A `-spice` in `args` is the server then (args.rs).
    let spice_args = super::args::spice_in_args(vm);
    if spice_audio && !console.spice && !spice_args {
        ctx.note_on(
            Key::audio0,
            Note::advice(
                code::AUDIO_SPICE_SERVER,
                "spice audio needs a SPICE server: a host-side one listening on 127.0.0.1 was added",
            )
            .help("connect a SPICE client (remote-viewer) to hear the guest, or set driver=none"),
        );
    }
    if (spice_usb || spice_audio) && !console.spice && !spice_args {
        domain.devices.graphics.push(DomainGraphics::Spice(DomainGraphicsSpice {
            autoport: Some("yes".into()),
            keymap: console.keymap.clone(),
            listen: local_listen(),
            ..Default::default()
        }));
    }
    if console.spice {
        spice_display(ctx, domain, console, spice_args);
    }
}

/// The SPICE server of a qxl or virtio display, with the guest-side channels Proxmox adds:
/// the vdagent port and, with `foldersharing`, the WebDAV port.
fn spice_display(ctx: &mut Ctx, domain: &mut Domain, console: &Console, spice_args: bool) {
    let enhancements = console.enhancements;
    let streaming = enhancements
        .and_then(|e| e.videostreaming())
        .filter(|m| *m != VideoStreaming::Off)
        .map(|m| DomainGraphicsStreaming { mode: m.as_str().to_owned() });
    domain.devices.graphics.push(DomainGraphics::Spice(DomainGraphicsSpice {
        autoport: Some("yes".into()),
        keymap: console.keymap.clone(),
        listen: local_listen(),
        streaming,
        ..Default::default()
    }));
    virtio_serial(ctx, domain, PciDevice::Spice);
    // With clipboard=vnc, Proxmox's qemu-vdagent takes the vdagent port name instead of
    // spicevmc (QEMU refuses two ports named com.redhat.spice.0).
    if !console.vnc_clipboard {
        domain.devices.channels.push(DomainChardev {
            source: DomainChardevSource::Spicevmc,
            target: Some(DomainChardevTarget {
                target_type: Some("virtio".into()),
                name: Some("com.redhat.spice.0".into()),
                port: None,
            }),
            ..Default::default()
        });
    }
    if enhancements.and_then(|e| e.foldersharing()) == Some(true) {
        domain.devices.channels.push(DomainChardev {
            source: DomainChardevSource::Spiceport { channel: Some("org.spice-space.webdav.0".into()) },
            target: Some(DomainChardevTarget {
                target_type: Some("virtio".into()),
                name: Some("org.spice-space.webdav.0".into()),
                port: None,
            }),
            address: None,
        });
    }
    ctx.note_on(
        Key::vga,
        Note::advice(
            code::SPICE_PLAIN,
            if spice_args {
                "SPICE listens where args' -spice says, without TLS (Proxmox uses TLS through its spiceproxy)"
            } else {
                "SPICE listens on 127.0.0.1 without TLS (Proxmox uses TLS through its spiceproxy)"
            },
        )
        .help("set defaultMode='secure' and spice_tls=1 in qemu.conf on the target for TLS"),
    );
}

/// `keyboard` is a keymap of the graphics: with none (a serial console) it has no effect.
fn keyboard(ctx: &mut Ctx, domain: &Domain, console: &Console) {
    if console.keymap.is_none() {
        return;
    }
    if domain.devices.graphics.is_empty() {
        ctx.note_on(
            Key::keyboard,
            Note::advice(
                code::IGNORED_BY_PROXMOX,
                "the keyboard layout has no effect without a display (vga: serialN); Proxmox ignores it too",
            ),
        );
    } else {
        ctx.mapped(Key::keyboard, "devices/graphics@keymap");
    }
}

/// `spice_enhancements` act only on the SPICE server of a qxl or virtio display.
fn spice_enhancements(ctx: &mut Ctx, console: &Console) {
    let Some(e) = console.enhancements else { return };
    if console.spice {
        ctx.mapped(Key::spice_enhancements, "devices/graphics[spice]");
    } else if !e.props.props.is_empty() {
        ctx.note_on(
            Key::spice_enhancements,
            Note::advice(
                code::SPICE_ENHANCEMENTS_UNUSED,
                "spice_enhancements has no effect: the display is not SPICE (qxl or virtio)",
            ),
        );
    } else {
        ctx.mapped(Key::spice_enhancements, "(empty)");
    }
}

/// `clipboard=vnc`: Proxmox's qemu-vdagent chardev carries the clipboard to the VNC console, on
/// the vdagent port, so it needs a virtio-serial controller of its own without SPICE.
fn vnc_clipboard(ctx: &mut Ctx, domain: &mut Domain, console: &Console) {
    domain.devices.channels.push(DomainChardev {
        source: DomainChardevSource::QemuVdagent {
            clipboard: Some(DomainChardevClipboard { copypaste: "yes".into() }),
            mouse: Some(DomainChardevMouse { mode: "client".into() }),
        },
        target: Some(DomainChardevTarget {
            target_type: Some("virtio".into()),
            name: Some("com.redhat.spice.0".into()),
            port: None,
        }),
        address: None,
    });
    if !console.spice {
        virtio_serial(ctx, domain, PciDevice::Spice);
    }
}

/// A video model the target's libvirt does not list (`<devices><video><enum name='modelType'>`)
/// becomes standard VGA, the one every QEMU has.
fn fit_video(ctx: &mut Ctx, domain: &Domain, videos: &mut [DomainVideoModel]) {
    let Some(target) = &ctx.opts.target else { return };
    let Some(dc) = target.domcaps_for(&domain.os.os_type.arch, ctx.is_q35(), domain.domain_type) else { return };
    let Some(models) = crate::target::TargetCaps::video_models(dc) else { return };
    let has = |m: &str| models.iter().any(|x| x == m);
    let describe = target.describe();
    let mut noted = false;
    for video in videos.iter_mut() {
        if video.model_type == "none" || has(&video.model_type) || !has("vga") {
            continue;
        }
        if !noted {
            let note = Note::warning(
                code::DEVICE_MODEL_FALLBACK,
                format!("the target ({describe}) has no '{}' video model; using 'vga'", video.model_type),
            )
            .help("the guest sees a standard VGA card instead");
            if ctx.vm.keys().vga().is_some() {
                ctx.note_on(Key::vga, note);
            } else {
                ctx.note(note);
            }
            noted = true;
        }
        *video = DomainVideoModel { model_type: "vga".into(), vram: Some(16 * 1024), ..Default::default() };
    }
}

/// A sound model the target's libvirt does not list (`<devices><sound>`, reported by newer
/// libvirt only) becomes the first one it lists.
fn fit_sound(ctx: &mut Ctx, domain: &Domain, model: &'static str) -> &'static str {
    let Some(target) = &ctx.opts.target else { return model };
    let Some(dc) = target.domcaps_for(&domain.os.os_type.arch, ctx.is_q35(), domain.domain_type) else { return model };
    let Some(models) = crate::target::TargetCaps::sound_models(dc) else { return model };
    if models.iter().any(|m| m == model) {
        return model;
    }
    let Some(fallback) = ["ich9", "ich6", "ac97"].into_iter().find(|m| models.iter().any(|x| x == m)) else {
        return model;
    };
    let describe = target.describe();
    ctx.note_on(
        Key::audio0,
        Note::warning(
            code::DEVICE_MODEL_FALLBACK,
            format!("the target ({describe}) has no '{model}' sound model; using '{fallback}'"),
        ),
    );
    fallback
}

/// `serialN`, `parallelN` (docs/mapping.md#serial-parallel-agent).
fn serial_and_parallel(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    for (i, entry) in vm.keys().serial() {
        let key = format!("serial{i}");
        let Some(value) = entry.text() else { continue };
        let port =
            Some(DomainChardevTarget { target_type: Some("isa-serial".into()), name: None, port: Some(u32::from(i)) });
        if value == "socket" {
            // Proxmox's socket serves `qm terminal`; libvirt's equivalent is a pty for `virsh console`.
            domain.devices.serials.push(DomainChardev {
                source: DomainChardevSource::Pty { path: None },
                target: port,
                address: None,
            });
            ctx.mapped(&key, "devices/serial[pty]");
            ctx.note_on(
                &key,
                Note::advice(
                    code::SERIAL_SOCKET_AS_PTY,
                    "the serial socket becomes a pty: use `virsh console` instead of `qm terminal`",
                ),
            );
        } else {
            domain.devices.serials.push(DomainChardev {
                source: DomainChardevSource::Dev { path: Some(value.to_owned()) },
                target: port,
                address: None,
            });
            ctx.mapped(&key, "devices/serial[dev]");
        }
    }
    for (i, entry) in vm.keys().parallel() {
        let key = format!("parallel{i}");
        let Some(path) = entry.text() else { continue };
        domain.devices.parallels.push(DomainChardev {
            source: DomainChardevSource::Dev { path: Some(path.to_owned()) },
            target: Some(DomainChardevTarget { target_type: None, name: None, port: Some(u32::from(i)) }),
            address: None,
        });
        ctx.mapped(&key, "devices/parallel");
    }
}

/// `agent` (Agent.pm): the QEMU guest agent channel. libvirt's own agent commands
/// (`virsh domfsfreeze`, …) work only with the virtio channel named `org.qemu.guest_agent.0`.
fn agent(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(agent) = ctx.vm.keys().agent() else { return };
    if agent.enabled() != Some(true) {
        ctx.mapped(Key::agent, "(disabled)");
        return;
    }
    let target = Some(DomainChardevTarget {
        target_type: Some("virtio".into()),
        name: Some("org.qemu.guest_agent.0".into()),
        port: None,
    });
    if agent.kind() == Some(AgentType::Isa) {
        ctx.note_on(
            Key::agent,
            Note::warning(
                code::AGENT_ISA,
                "agent type=isa becomes a virtio channel: libvirt talks to the agent only over virtio-serial",
            )
            .help("the guest needs the virtio-serial driver for the agent (Linux has it; Windows needs virtio-win)"),
        );
    }
    virtio_serial(ctx, domain, PciDevice::Qga);
    domain.devices.channels.push(DomainChardev {
        source: DomainChardevSource::Unix { mode: None, path: None },
        target,
        address: None,
    });
    ctx.mapped(Key::agent, "devices/channel[org.qemu.guest_agent.0]");
    let proxmox_side: Vec<&str> =
        [("fstrim_cloned_disks", agent.fstrim_cloned_disks()), ("freeze-fs", agent.freeze_fs())]
            .into_iter()
            .filter_map(|(k, v)| v.map(|_| k))
            .collect();
    if !proxmox_side.is_empty() {
        ctx.note_on(
            Key::agent,
            Note::advice(
                code::AGENT_PROXMOX_OPTIONS,
                format!(
                    "{} control Proxmox's own backup and clone jobs; libvirt has no such setting",
                    proxmox_side.join(", ")
                ),
            ),
        );
    }
}

/// `audio0` (docs/mapping.md#display-and-audio).
fn audio(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(props) = ctx.vm.keys().audio0() else { return };
    let (model, codec) = match props.device() {
        Some(AudioDevice::Ich9IntelHda) => ("ich9", Some(DomainSoundCodec { codec_type: "duplex".into() })),
        Some(AudioDevice::IntelHda) => ("ich6", Some(DomainSoundCodec { codec_type: "duplex".into() })),
        Some(AudioDevice::Ac97) | None => ("ac97", None),
    };
    let model = fit_sound(ctx, domain, model);
    let codec = if model == "ac97" { None } else { codec };
    let backend = if props.driver() == Some(AudioDriver::None) { "none" } else { "spice" };
    let address = ctx.pci_address(PciDevice::Audio);
    domain.devices.sounds.push(DomainSound {
        model: model.into(),
        codecs: codec.into_iter().collect(),
        audio: Some(DomainSoundAudio { id: 1 }),
        address,
    });
    domain.devices.audios.push(DomainAudio { id: 1, audio_type: backend.into() });
    ctx.mapped(Key::audio0, "devices/sound");
}

/// `watchdog` (docs/mapping.md#watchdog).
fn watchdog(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(props) = ctx.vm.keys().watchdog() else { return };
    let model = props.model().as_str().to_owned();
    let mut action = props.action().map(|a| a.as_str().to_owned());
    if props.action() == Some(WatchdogAction::Debug) {
        // libvirt rejects action='debug' ("unknown watchdog action").
        action = None;
        ctx.note_on(
            Key::watchdog,
            Note::warning(
                code::WATCHDOG_DEBUG,
                "watchdog action 'debug' has no libvirt form; libvirt's default action (reset) applies",
            )
            .at(props.span_of(WatchdogOpts::SUB.action)),
        );
    }
    // ib700 is an ISA device: it has no PCI slot.
    let address = if model == "i6300esb" { ctx.pci_address(PciDevice::Watchdog) } else { None };
    domain.devices.watchdog = Some(DomainWatchdog { model, action, address });
    ctx.mapped(Key::watchdog, "devices/watchdog");
}

/// `ivshmem`: Proxmox backs it by `/dev/shm/pve-shm-<name or vmid>`; a libvirt shmem named N uses
/// `/dev/shm/N`, so the same name keeps the same file.
fn ivshmem(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(props) = ctx.vm.keys().ivshmem() else { return };
    let name = format!("pve-shm-{}", props.name().map_or_else(|| ctx.vm.vmid.to_string(), str::to_owned));
    let size = props.size().unwrap_or(1).max(1) as u64;
    let address = ctx.pci_address(PciDevice::Ivshmem);
    domain.devices.shmems.push(DomainShmem {
        name,
        model: DomainShmemModel { model_type: "ivshmem-plain".into() },
        size: Some(DomainMemory { unit: "M".into(), value: size }),
        server: None,
        msi: None,
        address,
    });
    ctx.mapped(Key::ivshmem, "devices/shmem");
}

/// `virtiofsN` share a cluster directory mapping (`dirid`): with `mapping/directory.cfg` read
/// (`--pve-root`) it becomes `<filesystem>` with the node's path; otherwise a note.
fn virtiofs(ctx: &mut Ctx, domain: &mut Domain) {
    let entries: Vec<_> = ctx
        .vm
        .keys()
        .virtiofs()
        .map(|(i, e)| {
            let v = VirtiofsOpts::of(e);
            (i, v.and_then(|v| v.dirid()).map(str::to_owned), v.and_then(|v| v.cache()).map(|c| c.as_str().to_owned()))
        })
        .collect();
    for (i, dirid, cache) in entries {
        let key = format!("virtiofs{i}");
        let dirid = dirid.unwrap_or_default();
        if !ctx.opts.cluster.dir.is_empty() {
            match resolve_dir(ctx, &dirid) {
                Ok((path, note)) => {
                    // virtiofsd needs the guest RAM shared with it (libvirt's virtiofs page);
                    // Proxmox backs RAM with a shared memfd for the same reason.
                    let backing = domain.memory_backing.get_or_insert_with(Default::default);
                    if backing.hugepages.is_none() && backing.source.is_none() {
                        backing.source = Some(crate::libvirt::DomainMemorySource { source_type: "memfd".into() });
                    }
                    backing.access = Some(crate::libvirt::DomainMemoryAccess { mode: "shared".into() });
                    domain.devices.filesystems.push(crate::libvirt::DomainFilesystem {
                        fs_type: "mount".into(),
                        accessmode: "passthrough".into(),
                        driver: crate::libvirt::DomainFilesystemDriver { driver_type: "virtiofs".into(), queue: None },
                        source: crate::libvirt::DomainFilesystemSource { dir: path },
                        // The guest mounts the share by this tag, as under Proxmox (`tag=<dirid>`).
                        target: crate::libvirt::DomainFilesystemTarget { dir: dirid.clone() },
                    });
                    ctx.mapped(&key, "devices/filesystem");
                    ctx.note_on(&key, note);
                    if let Some(cache) = cache.filter(|c| c != "auto") {
                        ctx.note_on(
                            &key,
                            Note::advice(code::VIRTIOFS_CACHE, format!("cache={cache} is not carried (libvirt sets virtiofsd's cache through <binary><cache mode>)")),
                        );
                    }
                }
                Err(why) => ctx.note_on(
                    &key,
                    Note::warning(
                        code::VIRTIOFS_MAPPING,
                        format!("virtio-fs share '{dirid}': the directory mapping {why}; not translated"),
                    )
                    .help("fix mapping/directory.cfg or --pve-node"),
                ),
            }
            continue;
        }
        ctx.note_on(
            &key,
            Note::warning(code::VIRTIOFS_MAPPING, format!("virtio-fs share '{dirid}' comes from a Proxmox directory mapping that cannot be resolved here; not translated"))
                .help("pass --pve-root with the cluster's /etc/pve (or a copy) to resolve it from mapping/directory.cfg, or add <filesystem type='mount'><driver type='virtiofs'/><source dir='…'/><target dir='<dirid>'/></filesystem> and shared memory (docs/mapping.md#virtio-fs)"),
        );
    }
}

/// The node's path of directory mapping `dirid` (pve-guest-common `PVE/Mapping/Dir.pm`: exactly
/// one entry per node).
fn resolve_dir(ctx: &Ctx, dirid: &str) -> Result<(String, Note), String> {
    let cluster = &ctx.opts.cluster;
    let m = cluster.dir.get(dirid).ok_or("is not in mapping/directory.cfg")?;
    let (entries, node_note) = cluster.node_entries(m)?;
    let path = entries[0].path().ok_or("has no path for this node")?;
    let node = entries[0].node().unwrap_or("?");
    let mut note = Note::advice(
        code::MAPPING_RESOLVED,
        format!("directory mapping '{dirid}' is {path} on node {node} (mapping/directory.cfg); libvirt runs virtiofsd for it"),
    );
    if let Some(n) = node_note {
        note = note.help(n);
    }
    Ok((path.to_owned(), note))
}

/// `hookscript: STORAGE:snippets/NAME` with the cluster's files at hand: the script's path (the
/// storage's `path` + `/snippets/NAME`, or under `--map-storage`) and the phases it handles, which
/// Proxmox passes as its second argument (qemu-server `PVE/GuestHelpers.pm` `exec_hookscript`).
fn hookscript(ctx: &Ctx) -> Note {
    let volume = ctx.vm.keys().hookscript().unwrap_or_default();
    let (storage, name) = volume.split_once(':').unwrap_or(("", volume));
    let path = match ctx.opts.storage_map.get(storage) {
        Some(dir) => Some(dir.join(name)),
        None => ctx.opts.storage.get(storage).and_then(|s| s.prop("path")).map(|p| std::path::Path::new(p).join(name)),
    };
    let Some(path) = path else {
        return Note::warning(
            code::HOOKSCRIPT,
            format!("hook script {volume}: storage '{storage}' has no path in storage.cfg"),
        )
        .help("libvirt's hooks (/etc/libvirt/hooks/qemu) are global; call the script from there for this domain");
    };
    let phases = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let found: Vec<&str> =
                ["pre-start", "post-start", "pre-stop", "post-stop"].into_iter().filter(|p| text.contains(p)).collect();
            if found.is_empty() {
                "no phase named in it".to_owned()
            } else {
                format!("phases {}", found.join(", "))
            }
        }
        Err(e) => format!("phases unknown: cannot read it here ({e})"),
    };
    Note::warning(code::HOOKSCRIPT, format!("hook script {} ({phases}) is not run by libvirt", path.display()))
        .help("libvirt's hooks are global (/etc/libvirt/hooks/qemu.d/): call the script there for this domain; Proxmox's pre-start/post-start/pre-stop/post-stop are libvirt's prepare/started/stopped/release")
}

/// Settings that act on Proxmox itself (its API, scheduler, cloud-init generator, migration), not on
/// the guest's hardware: each gets a note saying what it did and what to do instead.
fn proxmox_only(ctx: &mut Ctx) {
    const CLOUDINIT: &[Key] = &[
        Key::cicustom,
        Key::cipassword,
        Key::citype,
        Key::ciupgrade,
        Key::ciuser,
        Key::nameserver,
        Key::searchdomain,
        Key::sshkeys,
    ];
    let keys: Vec<(Key, &str)> = ctx.vm.entries.iter().map(|e| (Key::from(e), e.spec.name)).collect();
    for (key, spec_name) in keys {
        let is_ci = CLOUDINIT.contains(&key) || spec_name == "ipconfig";
        let note = if let Some(drive) = ctx.cloudinit_seed.clone().filter(|_| is_ci) {
            Note::advice(
                code::CLOUDINIT_SEED_ATTACHED,
                format!("cloud-init setting: carried by the seed volume on {drive}, as Proxmox last generated it"),
            )
            .help("Proxmox rebuilds the seed from these keys at every start; libvirt does not, so changes need a new seed")
        } else if is_ci {
            Note::warning(
                code::CLOUDINIT_NOT_GENERATED,
                "cloud-init setting: Proxmox builds the cloud-init ISO at each start; libvirt does not",
            )
            .help("build a NoCloud/ConfigDrive ISO (e.g. with cloud-localds) and attach it as a CD-ROM")
        } else if key == Key::ostype {
            ctx.mapped(Key::ostype, "features/hyperv, clock, machine");
            continue;
        } else {
            let Some(note) = proxmox_only_note(ctx, &key) else { continue };
            note
        };
        ctx.note_on(&key, note);
    }
}

/// The note on a setting of Proxmox's own (not cloud-init's), or `None` for a key of the guest's.
fn proxmox_only_note(ctx: &Ctx, key: &Key) -> Option<Note> {
    use code::*;
    let is = |keys: &[Key]| keys.contains(key);
    let note = if is(&[Key::hookscript]) && ctx.opts.cluster.present {
        hookscript(ctx)
    } else if is(&[Key::hookscript]) {
        Note::warning(HOOKSCRIPT, "Proxmox hook scripts have no per-VM libvirt equivalent")
            .help("libvirt's hooks (/etc/libvirt/hooks/qemu) are global; call the script from there for this domain")
    } else if is(&[Key::hotplug]) {
        Note::advice(
            HOTPLUG_POLICY,
            "Proxmox's hotplug list is a policy of its API; libvirt allows hotplug wherever the bus supports it",
        )
    } else if is(&[Key::migrate_speed, Key::migrate_downtime]) {
        Note::advice(
            MIGRATION_TUNING,
            "migration tuning is an argument of `virsh migrate` (--bandwidth, --timeout), not part of the domain",
        )
    } else if is(&[Key::vmstatestorage]) {
        Note::advice(VMSTATE_STORAGE, "where Proxmox stores RAM snapshots has no libvirt setting")
    } else if is(&[Key::autostart]) {
        Note::advice(AUTOSTART, "Proxmox ignores `autostart` (restart after crash) too; see on_crash in the domain")
    } else if is(&[Key::runningmachine, Key::runningcpu, Key::running_nets_host_mtu, Key::snapstate]) {
        Note::advice(SNAPSHOT_INTERNAL, "snapshot-internal state recorded by Proxmox; not part of the VM's hardware")
    } else if is(&[Key::amd_sev, Key::intel_tdx]) {
        Note::warning(
            CONFIDENTIAL_COMPUTING,
            "confidential computing (SEV/TDX) depends on the target host's CPU and firmware; not translated",
        )
        .help("add <launchSecurity> by hand on a host that supports it (libvirt 9.0 has SEV, not SEV-SNP or TDX)")
    } else {
        return None;
    };
    Some(note)
}

#[cfg(test)]
mod tests {
    use super::VgaType;
    use crate::pve::schema::{ValueType, VGA};

    /// The schema's `vga` types are exactly VgaType's, and decode refuses any other: the old
    /// `_ => videos.push(model("vga"))` arm was dead (no decoded config reached it).
    #[test]
    fn vga_type_is_the_schema_enum() {
        let ty = VGA.keys.iter().find(|k| k.name == "type").expect("vga has a type");
        let ValueType::Enum(types) = ty.ty else { panic!("type is not an enum") };
        let parsed: Vec<VgaType> = types.iter().map(|t| VgaType::parse(t).unwrap_or_else(|| panic!("{t}"))).collect();
        assert_eq!(parsed.len(), 14);
        for (i, a) in parsed.iter().enumerate() {
            assert!(!parsed[i + 1..].contains(a), "two types parse to {a:?}");
        }
        assert_eq!(VgaType::parse(super::Vga::Std.as_str()), Some(VgaType::Std));
        assert_eq!(VgaType::parse("qxl5"), None);
        let opts = crate::Options { vmid: Some(100), ..Default::default() };
        let errors = crate::convert("vga: qxl5\n", &opts).unwrap_err();
        assert_eq!(errors.iter().map(|n| n.code).collect::<Vec<_>>(), [crate::report::code::BAD_VALUE]);
    }
}
