//! `args:`, the raw QEMU options Proxmox appends to its own command line (QemuServer.pm
//! `config_to_command`), parsed as QEMU parses them ([`crate::pve::model::args`]) and translated
//! option by option into the libvirt element that asks libvirt's QEMU for the same thing:
//!
//! - `-spice` → `<graphics type='spice'>` (QEMU merges `-spice` lists, so it refines a SPICE
//!   display Proxmox already has);
//! - `-device ivshmem-plain|ivshmem-doorbell` with its `-object memory-backend-file` / `-chardev`
//!   → `<shmem>`; `-device virtio-{mouse,keyboard,tablet}[-pci]` and `usb-{kbd,mouse,tablet}` →
//!   `<input>`;
//! - `-cpu` → `<cpu>`, `<features><hyperv>`, `<features><kvm><hidden>`: QEMU keeps the last `-cpu`,
//!   so it replaces what `cpu:`/`ostype` gave;
//! - `-smbios type=0|1|2|3|11` → `<sysinfo type='smbios'>`, merged with `smbios1`;
//! - `-global` of a property libvirt models (`kvm-pit.lost_tick_policy` → `<timer name='pit'>`,
//!   `ICH9-LPC`/`PIIX4_PM` `disable_s3`/`disable_s4` → `<pm>`), `-no-hpet` → `<timer name='hpet'>`.
//!
//! What has no libvirt form is kept under `<qemu:commandline>` with `--allow-qemu-args` and
//! reported otherwise: one note per option, pointing at it. `explain` lists each option as a row
//! `args[N]` (N counts options from 0) with what it became.

use crate::pve::schema::Key;
use std::collections::BTreeMap;

use crate::libvirt::{
    Domain, DomainChardevMouse, DomainCpu, DomainCpuMaxPhysAddr, DomainCpuModel, DomainFeatureHyperV,
    DomainFeatureHyperVSpinlocks, DomainFeatureHyperVVendorId, DomainFeatureKvm, DomainFeatureState, DomainGraphics,
    DomainGraphicsCompression, DomainGraphicsGl, DomainGraphicsListen, DomainGraphicsSpice, DomainGraphicsStreaming,
    DomainInput, DomainMemory, DomainOsSmbios, DomainPm, DomainPmPolicy, DomainQemuArg, DomainQemuCommandline,
    DomainShmem, DomainShmemModel, DomainShmemMsi, DomainShmemServer, DomainSysinfoEntry, DomainSysinfoFwcfgEntry,
    DomainSysinfoOemString, DomainSysinfoOemStrings, DomainSysinfoSystem, DomainTimer, DomainType, QEMU_NS,
};
use crate::map::cpu::Features;
use crate::map::{Ctx, KeyOutcome};
use crate::pve::model::args::{options, parse_opts, parse_size, shell_words, takes_argument, Opt, QemuOption};
use crate::pve::vm::VmConfig;
use crate::report::{code, Note, Span};

/// The options of the VM's `args`, or none when it has none or cannot be split.
fn parsed(vm: &VmConfig) -> Vec<QemuOption> {
    let Some(entry) = vm.keys().args() else { return Vec::new() };
    let Some(text) = entry.text() else { return Vec::new() };
    let span = entry.value.span();
    match shell_words(text, span.offset) {
        Ok(mut words) => {
            if span.len != text.len() {
                // The value is not the config text byte for byte: point at the whole value.
                for w in &mut words {
                    w.span = span;
                    w.verbatim = false;
                }
            }
            options(words)
        }
        Err(_) => Vec::new(),
    }
}

/// Whether `args` starts a SPICE server (`-spice`): then the server comes from there.
pub fn spice_in_args(vm: &VmConfig) -> bool {
    parsed(vm).iter().any(|o| o.name == "spice")
}

/// What one option became, for `explain`.
#[derive(Default, Clone)]
struct Row {
    became: Vec<String>,
    notes: Vec<&'static str>,
}

struct Args<'o> {
    opts: &'o [QemuOption],
    rows: Vec<Row>,
    /// Indices of the options kept as they are (`<qemu:commandline>` or reported).
    keep: Vec<(usize, String)>,
    /// `-object` / `-chardev` ids a translated device took its backend from.
    consumed: BTreeMap<String, usize>,
}

impl Args<'_> {
    fn mapped(&mut self, i: usize, element: &str) {
        if !self.rows[i].became.iter().any(|e| e == element) {
            self.rows[i].became.push(element.to_owned());
        }
    }

    fn note(&mut self, ctx: &mut Ctx, i: usize, note: Note) {
        self.rows[i].notes.push(note.code);
        let note = if note.span.is_none() { note.at(self.opts[i].span()) } else { note };
        ctx.note(note.key(Key::args));
    }

    /// A sub-option that has no libvirt form: the rest of the option is translated.
    fn sub_dropped(&mut self, ctx: &mut Ctx, i: usize, opt: &Opt, what: &str) {
        let o = &self.opts[i];
        let text = if opt.value.is_empty() { opt.key.clone() } else { format!("{}={}", opt.key, opt.value) };
        let note = Note::warning(
            code::ARGS_SUBOPTION_DROPPED,
            format!("{what} `{text}` of -{} has no libvirt form and was left out", o.name),
        )
        .at(o.arg_span(opt.range))
        .label("left out")
        .help("the rest of the option was translated; add this by hand if the guest needs it");
        self.note(ctx, i, note);
    }

    fn keep(&mut self, i: usize, reason: impl Into<String>) {
        self.keep.push((i, reason.into()));
    }

    /// The `-object`/`-chardev` with this id and the given QOM type / backend.
    fn backend(&self, option: &str, id: &str) -> Option<(usize, Vec<Opt>)> {
        let implied = if option == "object" { "qom-type" } else { "backend" };
        self.opts.iter().enumerate().filter(|(_, o)| o.name == option).find_map(|(i, o)| {
            let opts = parse_opts(o.arg_text(), Some(implied));
            opts.iter().any(|x| x.key == "id" && x.value == id).then_some((i, opts))
        })
    }
}

/// Whether `path` is absolute, under `dir` and free of `..`: a host file an option may have the
/// guest read (a ROM, an Ignition config) is only translated from where Proxmox keeps such files.
/// Anywhere else the option is kept as written, so that only `--allow-qemu-args` hands QEMU a
/// file a hostile config named.
fn under(path: &str, dir: &str) -> bool {
    path.starts_with(dir) && !path.split('/').any(|c| c == "..")
}

fn get<'a>(opts: &'a [Opt], key: &str) -> Option<&'a str> {
    opts.iter().rev().find(|o| o.key == key).map(|o| o.value.as_str())
}

fn is_on(v: &str) -> bool {
    matches!(v, "on" | "yes" | "true" | "y")
}

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(entry) = ctx.vm.keys().args() else { return };
    let Some(text) = entry.text() else { return };
    let span = entry.value.span();
    if let Err(at) = shell_words(text, span.offset) {
        let at = if span.len == text.len() { Span::new(at, 1) } else { span };
        ctx.note_on(
            Key::args,
            Note::error(code::BAD_VALUE, "args has an unterminated quote or a trailing backslash")
                .at(at)
                .label("cannot split into words"),
        );
        return;
    }
    let opts = parsed(ctx.vm);
    if opts.is_empty() {
        ctx.mapped(Key::args, "(empty)");
        return;
    }
    let mut a =
        Args { opts: &opts, rows: vec![Row::default(); opts.len()], keep: Vec::new(), consumed: BTreeMap::new() };
    translate(ctx, domain, &mut a);
    judge_backends(&mut a);
    pass_or_report(ctx, domain, &mut a);

    // The `args` row points at its options' rows; each says what it became.
    ctx.mapped(Key::args, &format!("args[0]–args[{}]", opts.len() - 1));
    ctx.args_rows = opts
        .iter()
        .zip(a.rows)
        .enumerate()
        .map(|(i, (o, row))| KeyOutcome {
            key: format!("args[{i}]"),
            value: shown(o),
            became: row.became,
            notes: row.notes,
        })
        .collect();
}

/// Each option to its libvirt element, one function per QEMU option; the rest is kept.
fn translate(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args) {
    let opts = a.opts;
    let mut cpu_seen = false;
    for (i, o) in opts.iter().enumerate() {
        if o.arg.is_none() && !o.name.is_empty() && takes_argument(&o.name) {
            // QEMU refuses to start ("requires an argument"): nothing to translate.
            a.keep(i, format!("-{} without its argument", o.name));
            continue;
        }
        match o.name.as_str() {
            "spice" => spice(ctx, domain, a, i),
            "device" => device(ctx, domain, a, i),
            "cpu" => {
                cpu(ctx, domain, a, i, !cpu_seen);
                cpu_seen = true;
            }
            "smbios" => smbios(ctx, domain, a, i),
            "fw_cfg" => fw_cfg(domain, a, i),
            "rtc" => rtc(ctx, domain, a, i),
            "global" => global(ctx, domain, a, i),
            "no-hpet" => {
                set_timer(domain, "hpet", None, Some("no"));
                a.mapped(i, "clock/timer[hpet]@present");
            }
            // Backends are judged once the devices that use them are.
            "object" | "chardev" => {}
            "" => a.keep(i, format!("`{}` is not an option (QEMU would open it as a disk image)", o.flag.text)),
            "machine" | "M" => a.keep(i, "machine properties in args have no libvirt element"),
            name => a.keep(i, format!("-{name} has no libvirt form here")),
        }
    }
}

/// A `-object`/`-chardev` is translated with the device that uses it, or kept with the rest.
fn judge_backends(a: &mut Args) {
    let opts = a.opts;
    for (i, o) in opts.iter().enumerate() {
        if (o.name != "object" && o.name != "chardev") || o.arg.is_none() {
            continue;
        }
        let implied = if o.name == "object" { "qom-type" } else { "backend" };
        let parsed = parse_opts(o.arg_text(), Some(implied));
        match get(&parsed, "id").and_then(|id| a.consumed.get(id).copied()) {
            Some(user) => a.mapped(i, &format!("devices/shmem (backend of args[{user}])")),
            None => a.keep(i, format!("-{} with no translated device using it", o.name)),
        }
    }
}

/// What has no libvirt form: passed through when allowed, otherwise reported, one by one.
fn pass_or_report(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args) {
    let opts = a.opts;
    let mut keep = std::mem::take(&mut a.keep);
    // In the order written, as Proxmox passes them.
    keep.sort_by_key(|(i, _)| *i);
    let mut passed = Vec::new();
    let mut pci_slots_passed = Vec::new();
    for (i, reason) in keep {
        if !ctx.opts.allow_qemu_args {
            a.note(
                ctx,
                i,
                Note::warning(code::QEMU_ARGS_DROPPED, format!("{reason}; the option was not passed on"))
                    .label("left out")
                    .help("review it, then convert with --allow-qemu-args to pass it through <qemu:commandline>"),
            );
            continue;
        }
        let o = &opts[i];
        let mut words = o.words();
        // QEMU realizes `-device` options written as key=value (these) before the JSON ones
        // libvirt writes, so a PCI device without addr= would take the first free slot before
        // libvirt's own devices claim theirs ("slot 2 function 0 not available for VGA"). It
        // gets the slot QEMU gave it under Proxmox, where it came after Proxmox's devices.
        if let Some(slot) = pass_pci_slot(ctx, domain, o, &pci_slots_passed) {
            let root = if ctx.is_q35() { "pcie.0" } else { "pci.0" };
            if let Some(last) = words.last_mut() {
                last.push_str(&format!(",bus={root},addr=0x{slot:02x}"));
            }
            pci_slots_passed.push(slot);
        }
        passed.extend(words.into_iter().map(|value| DomainQemuArg { value }));
        a.mapped(i, "qemu:commandline");
        a.note(
            ctx,
            i,
            Note::advice(code::QEMU_ARGS_PASSED, format!("{reason}: passed to QEMU through <qemu:commandline>"))
                .label("passed through")
                .help("its ids and buses may clash with the devices libvirt creates; check with `virsh start`"),
        );
    }
    if !passed.is_empty() {
        domain.xmlns_qemu = Some(QEMU_NS.into());
        domain.qemu_commandline.get_or_insert_with(|| DomainQemuCommandline { args: Vec::new() }).args.extend(passed);
    }
}

/// The option as `explain` shows it, with a SPICE password hidden.
fn shown(o: &QemuOption) -> String {
    let mut words = o.words();
    if o.name == "spice" {
        if let Some(arg) = words.get_mut(1) {
            *arg = parse_opts(arg, None)
                .into_iter()
                .map(|x| {
                    if x.key == "password" {
                        "password=********".to_owned()
                    } else {
                        format!("{}={}", x.key, x.value)
                    }
                })
                .collect::<Vec<_>>()
                .join(",");
        }
    }
    words.join(" ")
}

/// `-spice` (QEMU `ui/spice-core.c` `qemu_spice_opts`, a merged list: a later `-spice` refines
/// the same server, so it refines the SPICE display Proxmox itself gives qxl/virtio displays).
fn spice(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize) {
    let opts = parse_opts(a.opts[i].arg_text(), None);
    let mut g = spice_graphics(ctx, domain);
    let mut ticketing_off = false;
    let unix = get(&opts, "unix").is_some_and(is_on);
    let socket_path = get(&opts, "addr").is_some_and(|p| p.starts_with('/'));
    for o in &opts {
        if o.key == "disable-ticketing" {
            ticketing_off = is_on(&o.value);
        } else if let Err(what) = spice_setting(&mut g, o, unix, socket_path) {
            a.sub_dropped(ctx, i, o, what);
        }
    }
    if g.passwd.is_some() {
        ticketing_off = false;
    }
    if g.passwd.is_none() && !ticketing_off {
        // QEMU then refuses every client until a password is set over QMP (which Proxmox's
        // spiceproxy does); libvirt without passwd turns ticketing off.
        a.note(
            ctx,
            i,
            Note::warning(
                code::ARGS_SPICE_TICKETING,
                "-spice has neither password nor disable-ticketing: QEMU admits no client until a password is set; libvirt without passwd admits every client",
            )
            .help("add passwd='…' to the SPICE <graphics> to keep clients out"),
        );
    }
    domain.devices.graphics.push(DomainGraphics::Spice(g));
    a.mapped(i, "devices/graphics[spice]");
}

/// The SPICE display Proxmox gave (taken out, to be refined), or a new server as QEMU starts it.
fn spice_graphics(ctx: &Ctx, domain: &mut Domain) -> DomainGraphicsSpice {
    let existing = domain.devices.graphics.iter().position(|g| matches!(g, DomainGraphics::Spice(_)));
    match existing.map(|at| domain.devices.graphics.remove(at)) {
        Some(DomainGraphics::Spice(g)) => g,
        _ => DomainGraphicsSpice {
            autoport: Some("yes".into()),
            keymap: ctx.vm.keys().keyboard().map(|k| k.as_str().to_owned()),
            // QEMU listens on every address when -spice has no addr.
            listen: Some(DomainGraphicsListen {
                listen_type: "address".into(),
                address: Some("0.0.0.0".into()),
                socket: None,
            }),
            ..Default::default()
        },
    }
}

/// One `-spice` setting onto `<graphics>`; `Err(what)` for one libvirt cannot express.
/// `socket_path`: `addr` is an absolute path, which with `unix=on` makes a socket.
fn spice_setting(g: &mut DomainGraphicsSpice, o: &Opt, unix: bool, socket_path: bool) -> Result<(), &'static str> {
    let v = o.value.as_str();
    let compression = || Some(DomainGraphicsCompression { compression: v.to_owned() });
    match o.key.as_str() {
        "port" | "tls-port" => {
            let port = v.parse::<u32>().ok().and_then(|p| i32::try_from(p).ok()).ok_or("the port")?;
            if o.key == "port" {
                g.port = Some(port);
            } else {
                g.tls_port = Some(port);
            }
            g.autoport = Some("no".into());
        }
        // With unix=on, addr is the socket's path (QEMU `ui/spice-core.c` `qemu_spice_init`).
        "addr" if unix && v.starts_with('/') => {
            g.listen =
                Some(DomainGraphicsListen { listen_type: "socket".into(), address: None, socket: Some(v.to_owned()) });
            g.autoport = None;
        }
        // libvirt's schema takes an IP address or a host name (`addrIPorName`).
        "addr" if !unix && !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || ".:-_%".contains(c)) => {
            g.listen =
                Some(DomainGraphicsListen { listen_type: "address".into(), address: Some(v.to_owned()), socket: None })
        }
        "unix" if unix && socket_path => {}
        "password" => g.passwd = Some(v.to_owned()),
        "image-compression" if ["auto_glz", "auto_lz", "quic", "glz", "lz", "off"].contains(&v) => {
            g.image = compression()
        }
        "jpeg-wan-compression" if ["auto", "never", "always"].contains(&v) => g.jpeg = compression(),
        "zlib-glz-wan-compression" if ["auto", "never", "always"].contains(&v) => g.zlib = compression(),
        "playback-compression" => {
            g.playback = Some(DomainGraphicsCompression { compression: if is_on(v) { "on" } else { "off" }.into() })
        }
        "streaming-video" if ["filter", "all", "off"].contains(&v) => {
            g.streaming = Some(DomainGraphicsStreaming { mode: v.to_owned() })
        }
        "agent-mouse" => {
            g.mouse = Some(DomainChardevMouse { mode: if is_on(v) { "client".into() } else { "server".into() } })
        }
        "gl" => {
            let rendernode = g.gl.take().and_then(|gl| gl.rendernode);
            g.gl = Some(DomainGraphicsGl { enable: if is_on(v) { "yes".into() } else { "no".into() }, rendernode });
        }
        "rendernode" if under(v, "/dev/dri/") => {
            let enable = g.gl.as_ref().map_or("yes", |gl| gl.enable.as_str());
            g.gl = Some(DomainGraphicsGl { enable: enable.into(), rendernode: Some(v.to_owned()) });
        }
        _ => return Err("the setting"),
    }
    Ok(())
}

/// The `-device` properties that say where the device goes, not what it is: PCI devices go where
/// QEMU put them on the root bus (`root_address`), USB ones to a port of Proxmox's first USB
/// controller; anything else is left to libvirt.
const PLACEMENT: [&str; 6] = ["driver", "id", "bus", "addr", "multifunction", "port"];

/// `-device DRIVER,…` (implied key `driver`).
fn device(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize) {
    let opts = parse_opts(a.opts[i].arg_text(), Some("driver"));
    let driver = get(&opts, "driver").unwrap_or_default().to_owned();
    if let Some(kind) = input_kind(&driver) {
        return input(ctx, domain, a, i, &opts, kind);
    }
    match driver.as_str() {
        "ivshmem-plain" => ivshmem_plain(ctx, domain, a, i, &opts),
        "ivshmem-doorbell" => ivshmem_doorbell(ctx, domain, a, i, &opts),
        "vfio-pci" => vfio_pci(ctx, domain, a, i, &opts),
        "usb-host" => usb_host(domain, a, i, &opts),
        "" => a.keep(i, "-device without a driver"),
        other => a.keep(i, format!("QEMU device {other} has no libvirt element")),
    }
}

/// The `<input>` (type, bus) of a QEMU input device driver; virtio ones with or without `-pci`.
fn input_kind(driver: &str) -> Option<(&'static str, &'static str)> {
    match driver.strip_suffix("-pci").unwrap_or(driver) {
        "virtio-mouse" => Some(("mouse", "virtio")),
        "virtio-keyboard" => Some(("keyboard", "virtio")),
        "virtio-tablet" => Some(("tablet", "virtio")),
        _ => match driver {
            "usb-kbd" => Some(("keyboard", "usb")),
            "usb-mouse" => Some(("mouse", "usb")),
            "usb-tablet" => Some(("tablet", "usb")),
            _ => None,
        },
    }
}

/// `-device virtio-{mouse,keyboard,tablet}[-pci]` / `usb-{kbd,mouse,tablet}` → `<input>`.
fn input(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize, opts: &[Opt], kind: (&str, &str)) {
    let (input_type, bus) = kind;
    let mut address = if bus == "virtio" { root_address(ctx, domain, opts) } else { None };
    if bus == "usb" && !ctx.opts.libvirt_addresses {
        // Proxmox's first USB controller (uhci on i440fx, ehci on q35) is libvirt's usb 0.
        if let (Some("uhci.0" | "ehci.0"), Some(port)) = (get(opts, "bus"), get(opts, "port")) {
            if port.parse::<u32>().is_ok() {
                address = Some(super::usb::usb_address(0, port.parse().ok()));
            }
        }
    }
    for o in opts.iter().filter(|o| !PLACEMENT.contains(&o.key.as_str())) {
        a.sub_dropped(ctx, i, o, "the property");
    }
    domain.devices.inputs.push(DomainInput { input_type: input_type.into(), bus: bus.into(), address });
    a.mapped(i, &format!("devices/input[{input_type},{bus}]"));
}

/// `-device ivshmem-plain,memdev=ID` with its `-object memory-backend-file,id=ID` → `<shmem>`.
fn ivshmem_plain(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize, opts: &[Opt]) {
    let Some(memdev) = get(opts, "memdev") else {
        return a.keep(i, "ivshmem-plain without memdev");
    };
    let Some((_, backend)) = a.backend("object", memdev) else {
        return a.keep(i, format!("ivshmem-plain: no -object with id={memdev}"));
    };
    let path = get(&backend, "mem-path").unwrap_or_default();
    // libvirt's shmem is always /dev/shm/<name>, shared (libvirt `src/qemu/qemu_command.c`
    // `qemuBuildShmemBackendMemProps`).
    let name = path.strip_prefix("/dev/shm/").filter(|n| !n.is_empty() && !n.contains('/'));
    let shared = get(&backend, "share").is_some_and(is_on);
    let size = get(&backend, "size").and_then(parse_size);
    let (Some("memory-backend-file"), Some(name), true, Some(size)) = (get(&backend, "qom-type"), name, shared, size)
    else {
        return a.keep(
            i,
            format!("ivshmem-plain on {memdev}: libvirt's <shmem> needs a shared memory-backend-file under /dev/shm with a size"),
        );
    };
    if !size.is_power_of_two() {
        // libvirt refuses it at start ("shmem size must be a power of two"); the PCI BAR
        // QEMU maps the memory through has the same rule.
        return a.keep(i, format!("ivshmem-plain on {memdev}: its size ({size} bytes) is not a power of two"));
    }
    a.consumed.insert(memdev.to_owned(), i);
    for o in opts.iter().filter(|o| !PLACEMENT.contains(&o.key.as_str()) && o.key != "memdev") {
        a.sub_dropped(ctx, i, o, "the property");
    }
    let address = root_address(ctx, domain, opts);
    domain.devices.shmems.push(DomainShmem {
        name: name.to_owned(),
        model: DomainShmemModel { model_type: "ivshmem-plain".into() },
        size: Some(mebibytes(size)),
        server: None,
        msi: None,
        address,
    });
    a.mapped(i, "devices/shmem[ivshmem-plain]");
}

/// `-device ivshmem-doorbell,chardev=ID` with its `-chardev socket,id=ID,path=…` → `<shmem>`
/// with a `<server>`.
fn ivshmem_doorbell(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize, opts: &[Opt]) {
    let Some(chardev) = get(opts, "chardev") else {
        return a.keep(i, "ivshmem-doorbell without chardev");
    };
    let Some((_, backend)) = a.backend("chardev", chardev) else {
        return a.keep(i, format!("ivshmem-doorbell: no -chardev with id={chardev}"));
    };
    let (Some("socket"), Some(path)) = (get(&backend, "backend"), get(&backend, "path")) else {
        return a.keep(i, format!("ivshmem-doorbell on {chardev}: libvirt's <shmem> needs a unix socket chardev"));
    };
    if chardev.contains('/') || !path.starts_with('/') {
        return a.keep(i, format!("ivshmem-doorbell on {chardev}: no libvirt name or absolute path for it"));
    }
    a.consumed.insert(chardev.to_owned(), i);
    let vectors = get(opts, "vectors").and_then(|v| v.parse().ok());
    let ioeventfd = get(opts, "ioeventfd").map(|v| if is_on(v) { "on" } else { "off" });
    for o in opts.iter().filter(|o| {
        !PLACEMENT.contains(&o.key.as_str()) && !["chardev", "vectors", "ioeventfd"].contains(&o.key.as_str())
    }) {
        a.sub_dropped(ctx, i, o, "the property");
    }
    let address = root_address(ctx, domain, opts);
    domain.devices.shmems.push(DomainShmem {
        name: chardev.to_owned(),
        model: DomainShmemModel { model_type: "ivshmem-doorbell".into() },
        size: None,
        server: Some(DomainShmemServer { path: Some(path.to_owned()) }),
        msi: (vectors.is_some() || ioeventfd.is_some())
            .then_some(DomainShmemMsi { vectors, ioeventfd: ioeventfd.map(Into::into) }),
        address,
    });
    a.mapped(i, "devices/shmem[ivshmem-doorbell]");
}

/// The root-bus slot for a `-device …-pci` passed through without `bus=`/`addr=`: the lowest one
/// neither the domain nor an earlier passed device takes. `None` for anything else.
fn pass_pci_slot(ctx: &Ctx, domain: &Domain, o: &QemuOption, passed: &[u32]) -> Option<u32> {
    if o.name != "device" || ctx.opts.libvirt_addresses {
        return None;
    }
    let parsed = parse_opts(o.arg_text(), Some("driver"));
    let driver = get(&parsed, "driver")?;
    if !driver.ends_with("-pci") || get(&parsed, "addr").is_some() || get(&parsed, "bus").is_some() {
        return None;
    }
    let taken = crate::libvirt::write::to_xml(domain).ok()?;
    (1..32).find(|&slot| {
        // 0x1f on q35: the ICH9 LPC/SATA/SMBus functions.
        let reserved = ctx.is_q35() && slot == 0x1f;
        let used = passed.contains(&slot) || taken.contains(&format!("bus='0x00' slot='0x{slot:02x}'"));
        !reserved && !used
    })
}

/// Where QEMU puts a PCI device of `args` on the root bus: at `addr=SLOT[.FN]` when given, else
/// (no `bus=`, or `bus=pcie.0|pci.0`) at the lowest free slot, as QEMU's `pci_bus_devfn` picks it
/// after Proxmox's own devices: so the guest finds it where it did under Proxmox. Slots the
/// domain has taken count (libvirt refuses a double use at define), and 0x1f on q35 (the ICH9
/// LPC/SATA/SMBus functions). `None` leaves placement to libvirt (a Proxmox bridge as `bus=`, a
/// taken slot, `--libvirt-addresses`).
fn root_address(ctx: &Ctx, domain: &Domain, opts: &[Opt]) -> Option<crate::libvirt::DomainAddress> {
    let root = if ctx.is_q35() { "pcie.0" } else { "pci.0" };
    if ctx.opts.libvirt_addresses || get(opts, "bus").is_some_and(|b| b != root) {
        return None;
    }
    let taken = crate::libvirt::write::to_xml(domain).ok()?;
    let free = |slot: u32| {
        slot != 0 && !(ctx.is_q35() && slot == 0x1f) && !taken.contains(&format!("bus='0x00' slot='0x{slot:02x}'"))
    };
    let Some(addr) = get(opts, "addr") else {
        return (1..32).find(|s| free(*s)).map(|slot| crate::libvirt::DomainAddress::pci(0, slot, 0));
    };
    let (slot, function) = addr.split_once('.').unwrap_or((addr, "0"));
    let slot = u32::from_str_radix(slot.trim_start_matches("0x"), 16).ok().filter(|s| (1..32).contains(s))?;
    let function = function.parse::<u32>().ok().filter(|f| *f < 8)?;
    free(slot).then(|| crate::libvirt::DomainAddress::pci(0, slot, function))
}

/// `-device vfio-pci,host=[DDDD:]BB:SS.F` (how PCI passthrough was written before `hostpciN`
/// had its options) → `<hostdev type='pci' managed='yes'>`. `x-vga=on` and a relative ROM file
/// (QEMU looks it up in its data directory) have no libvirt form: then the option is kept.
fn vfio_pci(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize, opts: &[Opt]) {
    use crate::libvirt::{DomainHostdev, DomainHostdevDriver, DomainHostdevPci, DomainHostdevSource, DomainRom};
    let Some(host) = get(opts, "host") else { return a.keep(i, "vfio-pci without host= (a sysfsdev?)") };
    let (dom, rest) = match host.matches(':').count() {
        2 => host.split_once(':').map_or(("0000", host), |(d, r)| (d, r)),
        _ => ("0000", host),
    };
    let parsed = rest.split_once(':').and_then(|(bus, sf)| {
        let (slot, function) = sf.split_once('.')?;
        let hex = |v: &str, max: u32| u32::from_str_radix(v, 16).ok().filter(|n| *n <= max);
        Some((hex(dom, 0xffff)?, hex(bus, 0xff)?, hex(slot, 0x1f)?, hex(function, 7)?))
    });
    let Some((dom, bus, slot, function)) = parsed else {
        return a.keep(i, format!("vfio-pci host={host} is not a PCI address"));
    };
    if get(opts, "x-vga").is_some_and(is_on) {
        return a.keep(i, "vfio-pci with x-vga=on has no libvirt element (use hostpciN with x-vga=1)");
    }
    let romfile = get(opts, "romfile");
    if romfile.is_some_and(|r| !under(r, "/usr/share/kvm/")) {
        // As for hostpciN: ROM files come from /usr/share/kvm (a relative name is QEMU's data
        // directory, which libvirt cannot name).
        return a.keep(i, "vfio-pci with a romfile outside /usr/share/kvm is not translated");
    }
    let rombar = get(opts, "rombar").map(|v| v != "0");
    let rom = (romfile.is_some() || rombar.is_some()).then(|| DomainRom {
        bar: rombar.map(|on| if on { "on" } else { "off" }.into()),
        file: romfile.map(str::to_owned),
        enabled: None,
    });
    for o in opts.iter().filter(|o| {
        !["driver", "id", "bus", "addr", "multifunction", "host", "romfile", "rombar", "x-vga"]
            .contains(&o.key.as_str())
    }) {
        a.sub_dropped(ctx, i, o, "the property");
    }
    domain.devices.hostdevs.push(DomainHostdev {
        managed: Some("yes".into()),
        driver: Some(DomainHostdevDriver { name: Some("vfio".into()), model: None }),
        source: DomainHostdevSource::Pci(DomainHostdevPci {
            domain: Some(format!("0x{dom:04x}")),
            bus: Some(format!("0x{bus:02x}")),
            slot: Some(format!("0x{slot:02x}")),
            function: Some(format!("0x{function:x}")),
        }),
        rom,
        address: root_address(ctx, domain, opts),
        boot: None,
        alias: None,
    });
    a.mapped(i, "devices/hostdev[pci]");
}

/// `-device usb-host,vendorid=…,productid=…` or `hostbus=…,hostaddr=…` → `<hostdev type='usb'>`.
/// A `hostport=` path has no libvirt form (libvirt 9.0 selects by ids or bus and device number).
fn usb_host(domain: &mut Domain, a: &mut Args, i: usize, opts: &[Opt]) {
    use crate::libvirt::{DomainHostdev, DomainHostdevId, DomainHostdevSource, DomainHostdevUsb};
    let id = |k: &str| {
        get(opts, k).and_then(|v| {
            let n = match v.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => v.parse().ok(),
            };
            n.filter(|n| *n <= 0xffff).map(|n| format!("0x{n:04x}"))
        })
    };
    let num = |k: &str| get(opts, k).and_then(|v| v.parse::<u32>().ok());
    let allowed = ["driver", "id", "bus", "port", "vendorid", "productid", "hostbus", "hostaddr"];
    if opts.iter().any(|o| !allowed.contains(&o.key.as_str())) {
        return a.keep(i, "usb-host with properties libvirt has no form for (hostport, …)");
    }
    let source = match (id("vendorid"), id("productid"), num("hostbus"), num("hostaddr")) {
        (Some(vendor), Some(product), None, None) => DomainHostdevSource::Usb(DomainHostdevUsb {
            vendor: Some(DomainHostdevId { id: vendor }),
            product: Some(DomainHostdevId { id: product }),
            ..Default::default()
        }),
        (None, None, Some(bus), Some(device)) => DomainHostdevSource::Usb(DomainHostdevUsb {
            bus: Some(bus.to_string()),
            device: Some(device.to_string()),
            ..Default::default()
        }),
        _ => return a.keep(i, "usb-host needs vendorid and productid, or hostbus and hostaddr, for libvirt"),
    };
    domain.devices.hostdevs.push(DomainHostdev {
        managed: Some("yes".into()),
        source,
        driver: None,
        boot: None,
        rom: None,
        alias: None,
        address: None,
    });
    a.mapped(i, "devices/hostdev[usb]");
}

fn mebibytes(bytes: u64) -> DomainMemory {
    if bytes % (1 << 20) == 0 {
        DomainMemory { unit: "M".into(), value: bytes >> 20 }
    } else {
        DomainMemory { unit: "b".into(), value: bytes }
    }
}

/// A libvirt name for a QEMU CPU feature: QEMU takes `_`, `-` and `.` alike (`sse4_1`,
/// `lahf-lm`), libvirt only its own spelling.
fn libvirt_feature(name: &str) -> Option<&'static str> {
    let known = |n: &str| {
        super::x86_features::X86_FEATURES.binary_search(&n).ok().map(|i| super::x86_features::X86_FEATURES[i])
    };
    let alias = match name {
        "sse3" => "pni",
        "i64" => "lm",
        "xd" => "nx",
        "ffxsr" => "fxsr_opt",
        _ => name,
    };
    known(alias)
        .or_else(|| known(&alias.replace('_', "-")))
        .or_else(|| known(&alias.replace('-', "_")))
        .or_else(|| known(&alias.replace(['_', '-'], ".")))
}

/// `-cpu MODEL,feature,…` (QEMU `target/i386/cpu.c` `x86_cpu_parse_featurestr`: `+f`, `-f`, `f`,
/// `f=on|off`, `prop=value`, split at every comma). QEMU keeps the last `-cpu`, so this replaces
/// the model, the flags and the Hyper-V and KVM settings Proxmox put into its own `-cpu`.
fn cpu(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize, first: bool) {
    let arg = a.opts[i].arg_text().to_owned();
    let mut parts = Vec::new();
    let mut start = 0;
    for piece in arg.split(',') {
        parts.push((piece.to_owned(), (start, start + piece.len())));
        start += piece.len() + 1;
    }
    let model = parts.first().map(|p| p.0.clone()).unwrap_or_default();
    if model.is_empty() {
        return a.keep(i, "-cpu without a model");
    }
    let mut cpu = cpu_model(ctx, domain, a, i, &model);
    if first {
        a.note(
            ctx,
            i,
            Note::advice(
                code::ARGS_CPU_REPLACES,
                "QEMU keeps the last -cpu: this one replaces the model, flags and Hyper-V settings Proxmox derives from cpu and ostype",
            ),
        );
    }
    forget_proxmox_cpu(domain);
    let mut hv = DomainFeatureHyperV::default();
    let mut features = Features::default();
    for (piece, range) in parts.iter().skip(1).filter(|p| !p.0.is_empty()) {
        let flag = CpuFlag::parse(piece, *range);
        if let Some(h) = flag.name.strip_prefix("hv_").or_else(|| flag.name.strip_prefix("hv-")) {
            let h = h.replace('_', "-");
            hyperv_flag(ctx, domain, a, i, &flag, &h, &mut hv);
        } else {
            cpu_flag(ctx, domain, a, i, flag, &mut cpu, &mut features);
        }
    }
    cpu.features = features.0;
    if hv != DomainFeatureHyperV::default() {
        hv.mode = "custom".into();
        domain.features.hyperv = Some(hv);
    }
    domain.cpu = Some(cpu);
    a.mapped(i, "cpu");
}

/// The `-cpu` model → `<cpu mode>`, keeping the topology and NUMA cells of `sockets`/`numa`.
fn cpu_model(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize, model: &str) -> DomainCpu {
    let tcg = domain.domain_type == DomainType::Qemu;
    let old = domain.cpu.take().unwrap_or_default();
    let mut cpu = DomainCpu { check: old.check, topology: old.topology, numa: old.numa, ..Default::default() };
    match model {
        "host" if tcg => {
            cpu.mode = "maximum".into();
            a.note(
                ctx,
                i,
                Note::warning(
                    code::CPU_HOST_UNDER_TCG,
                    "-cpu host cannot pass the host CPU through without KVM; using QEMU's 'max' model",
                )
                .help("with --domain-type kvm the host CPU is passed through as on Proxmox"),
            );
        }
        "host" => {
            cpu.mode = "host-passthrough".into();
            cpu.migratable = Some("on".into());
        }
        "max" => cpu.mode = "maximum".into(),
        m => {
            cpu.mode = "custom".into();
            cpu.match_ = Some("exact".into());
            cpu.model = Some(DomainCpuModel { fallback: "forbid".into(), vendor_id: None, value: m.to_owned() });
        }
    }
    cpu
}

/// What Proxmox's own `-cpu` gave beyond the model (Hyper-V, `kvm=off`, kvm_pv_eoi/unhalt,
/// hv_time) is gone once a later `-cpu` replaces it.
fn forget_proxmox_cpu(domain: &mut Domain) {
    domain.features.hyperv = None;
    domain.features.kvm = None;
    domain.features.pvspinlock = None;
    if let Some(apic) = &mut domain.features.apic {
        apic.eoi = None;
    }
    domain.clock.timers.retain(|t| t.name != "hypervclock");
}

/// One comma-separated piece of `-cpu` after the model.
struct CpuFlag {
    /// The piece as an option, for pointing notes at it.
    opt: Opt,
    name: String,
    on: bool,
    /// The value of a `prop=value` that is not an on/off switch.
    value: Option<String>,
}

impl CpuFlag {
    /// QEMU reads `+f`/`-f`, `f=on|off` (and its boolean spellings), `prop=value` and a bare `f`.
    fn parse(piece: &str, range: (usize, usize)) -> CpuFlag {
        let opt = Opt {
            key: piece.split('=').next().unwrap_or_default().to_owned(),
            value: piece.split_once('=').map_or_else(String::new, |(_, v)| v.to_owned()),
            range,
        };
        let (name, on, value) = match (piece.strip_prefix('+'), piece.strip_prefix('-')) {
            (Some(n), _) => (n.to_owned(), true, None),
            (_, Some(n)) => (n.to_owned(), false, None),
            _ => match piece.split_once('=') {
                Some((k, v)) if ["on", "off", "true", "false", "yes", "no"].contains(&v) => {
                    (k.to_owned(), is_on(v), None)
                }
                Some((k, v)) => (k.to_owned(), true, Some(v.to_owned())),
                None => (piece.to_owned(), true, None),
            },
        };
        CpuFlag { opt, name, on, value }
    }

    fn state(&self) -> DomainFeatureState {
        if self.on {
            DomainFeatureState::ON
        } else {
            DomainFeatureState::OFF
        }
    }
}

/// `hv-NAME` / `hv_NAME` (`h`, with `-`) → `<hyperv>`; hv-time is libvirt's hypervclock timer.
fn hyperv_flag(
    ctx: &mut Ctx,
    domain: &mut Domain,
    a: &mut Args,
    i: usize,
    flag: &CpuFlag,
    h: &str,
    hv: &mut DomainFeatureHyperV,
) {
    let st = Some(flag.state());
    match (h, flag.value.clone()) {
        ("relaxed", None) => hv.relaxed = st,
        ("vapic", None) => hv.vapic = st,
        ("vpindex", None) => hv.vpindex = st,
        ("runtime", None) => hv.runtime = st,
        ("synic", None) => hv.synic = st,
        ("stimer", None) => hv.stimer = st,
        ("reset", None) => hv.reset = st,
        ("frequencies", None) => hv.frequencies = st,
        ("reenlightenment", None) => hv.reenlightenment = st,
        ("tlbflush", None) => hv.tlbflush = st,
        ("ipi", None) => hv.ipi = st,
        ("evmcs", None) => hv.evmcs = st,
        ("time", None) => set_timer(domain, "hypervclock", None, Some(if flag.on { "yes" } else { "no" })),
        ("spinlocks", Some(v)) => {
            let retries = match v.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => v.parse().ok(),
            };
            match retries {
                Some(retries) => {
                    hv.spinlocks = Some(DomainFeatureHyperVSpinlocks { state: crate::libvirt::OnOff::On, retries })
                }
                None => a.sub_dropped(ctx, i, &flag.opt, "the Hyper-V setting"),
            }
        }
        // libvirt: exactly 1–12 characters.
        ("vendor-id", Some(v)) if !v.is_empty() && v.len() <= 12 => {
            hv.vendor_id = Some(DomainFeatureHyperVVendorId { state: crate::libvirt::OnOff::On, value: v })
        }
        _ => a.sub_dropped(ctx, i, &flag.opt, "the Hyper-V enlightenment"),
    }
}

/// A `-cpu` feature or property that is not Hyper-V: KVM's paravirt switches are domain
/// features in libvirt, a few properties are `<cpu>` attributes, the rest CPU features.
fn cpu_flag(
    ctx: &mut Ctx,
    domain: &mut Domain,
    a: &mut Args,
    i: usize,
    flag: CpuFlag,
    cpu: &mut DomainCpu,
    features: &mut Features,
) {
    let (on, state) = (flag.on, flag.state());
    match (flag.name.as_str(), flag.value) {
        ("kvm", None) => {
            if !on {
                domain.features.kvm = Some(DomainFeatureKvm { hidden: Some(DomainFeatureState::ON) });
            }
        }
        ("kvm_pv_eoi" | "kvm-pv-eoi", None) => {
            domain.features.apic.get_or_insert_with(Default::default).eoi =
                Some(if on { "on".into() } else { "off".into() })
        }
        ("kvm_pv_unhalt" | "kvm-pv-unhalt", None) => domain.features.pvspinlock = Some(state),
        ("enforce", None) => cpu.check = Some(if on { "full".into() } else { "none".into() }),
        ("migratable", None) if cpu.mode == "host-passthrough" => {
            cpu.migratable = Some(if on { "on".into() } else { "off".into() })
        }
        ("host-phys-bits", None) if cpu.mode != "custom" => {
            cpu.maxphysaddr = on.then_some(DomainCpuMaxPhysAddr { mode: "passthrough".into(), bits: None })
        }
        ("phys-bits", Some(v)) if v.parse::<u32>().is_ok() => {
            cpu.maxphysaddr = Some(DomainCpuMaxPhysAddr { mode: "emulate".into(), bits: v.parse().ok() })
        }
        // libvirt: exactly 12 characters, custom models only.
        ("vendor", Some(v)) if v.len() == 12 && cpu.model.is_some() => {
            if let Some(m) = &mut cpu.model {
                m.vendor_id = Some(v);
            }
        }
        (_, Some(_)) => a.sub_dropped(ctx, i, &flag.opt, "the CPU property"),
        (feature, None) => match libvirt_feature(feature) {
            Some(f) => features.set(if on { "require" } else { "disable" }, f),
            None => a.sub_dropped(ctx, i, &flag.opt, "the CPU feature (unknown to libvirt)"),
        },
    }
}

fn set_timer(domain: &mut Domain, name: &'static str, tickpolicy: Option<&'static str>, present: Option<&'static str>) {
    match domain.clock.timers.iter_mut().find(|t| t.name == name) {
        Some(t) => {
            t.tickpolicy = tickpolicy.map(Into::into).or(t.tickpolicy.take());
            t.present = present.map(Into::into).or(t.present.take());
        }
        None => domain.clock.timers.push(DomainTimer {
            name: name.into(),
            tickpolicy: tickpolicy.map(Into::into),
            present: present.map(Into::into),
        }),
    }
}

/// `-smbios type=N,field=…` (QEMU `hw/smbios/smbios.c`): later fields override earlier ones, so
/// they override what `smbios1` gave.
fn smbios(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize) {
    let opts = parse_opts(a.opts[i].arg_text(), None);
    if get(&opts, "file").is_some() {
        return a.keep(i, "an SMBIOS table from a file has no libvirt form");
    }
    let kind = get(&opts, "type").unwrap_or_default().to_owned();
    let Some(fields) = smbios_fields(&kind) else {
        return a.keep(i, format!("SMBIOS type {kind} has no libvirt form"));
    };
    let mut entries = Vec::new();
    let mut oem = Vec::new();
    for o in opts.iter().filter(|o| o.key != "type") {
        if kind == "11" && o.key == "value" {
            oem.push(DomainSysinfoOemString { value: o.value.clone() });
        } else if let Some((_, name)) = fields.iter().find(|(q, _)| *q == o.key) {
            entries.push(DomainSysinfoEntry { name: (*name).into(), value: o.value.clone() });
        } else {
            a.sub_dropped(ctx, i, o, "the SMBIOS field");
        }
    }
    if entries.is_empty() && oem.is_empty() {
        // e.g. `-smbios type=2` alone, which makes QEMU write an empty baseboard table (macOS
        // guides use it); libvirt writes a table only with entries.
        return a.keep(i, format!("an SMBIOS type {kind} table without fields has no libvirt form"));
    }
    if kind == "11" {
        domain.sysinfo_smbios().oem_strings.get_or_insert_with(DomainSysinfoOemStrings::default).entries.extend(oem);
    } else {
        smbios_table(domain, &kind, entries, fields);
    }
    domain.os.smbios = Some(DomainOsSmbios { mode: "sysinfo".into() });
    let element = match kind.as_str() {
        "0" => "sysinfo/bios",
        "1" => "sysinfo/system",
        "2" => "sysinfo/baseBoard",
        "3" => "sysinfo/chassis",
        _ => "sysinfo/oemStrings",
    };
    a.mapped(i, element);
}

/// (QEMU field, libvirt entry name) per table, in libvirt's order; `None` for a table libvirt
/// cannot write (type 11 has values, not fields).
fn smbios_fields(kind: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match kind {
        "0" => &[("vendor", "vendor"), ("version", "version"), ("date", "date"), ("release", "release")],
        "1" => &[
            ("manufacturer", "manufacturer"),
            ("product", "product"),
            ("version", "version"),
            ("serial", "serial"),
            ("uuid", "uuid"),
            ("sku", "sku"),
            ("family", "family"),
        ],
        "2" => &[
            ("manufacturer", "manufacturer"),
            ("product", "product"),
            ("version", "version"),
            ("serial", "serial"),
            ("asset", "asset"),
            ("location", "location"),
        ],
        "3" => &[
            ("manufacturer", "manufacturer"),
            ("version", "version"),
            ("serial", "serial"),
            ("asset", "asset"),
            ("sku", "sku"),
        ],
        "11" => &[],
        _ => return None,
    })
}

/// Merges `entries` into the sysinfo table of SMBIOS type `kind` (0–3), later values winning.
fn smbios_table(domain: &mut Domain, kind: &str, mut entries: Vec<DomainSysinfoEntry>, fields: &[(&str, &str)]) {
    if kind == "1" {
        if let Some(uuid) = entries.iter().find(|e| e.name == "uuid") {
            // libvirt requires the sysinfo uuid to equal <uuid> ("UUID mismatch").
            let uuid = uuid.value.to_ascii_lowercase();
            domain.uuid = Some(uuid.clone());
            for e in entries.iter_mut().filter(|e| e.name == "uuid") {
                e.value = uuid.clone();
            }
        }
    }
    let sysinfo = domain.sysinfo_smbios();
    let table = match kind {
        "0" => &mut sysinfo.bios,
        "1" => &mut sysinfo.system,
        "2" => &mut sysinfo.base_board,
        _ => &mut sysinfo.chassis,
    };
    let table = table.get_or_insert_with(DomainSysinfoSystem::default);
    for e in entries {
        match table.entries.iter_mut().find(|x| x.name == e.name) {
            Some(x) => x.value = e.value,
            None => table.entries.push(e),
        }
    }
    // libvirt's order of entries within the table.
    table.entries.sort_by_key(|e| fields.iter().position(|(_, n)| *n == e.name));
}

/// `-fw_cfg [name=]opt/NAME,string=…|file=…` (QEMU `vl.c` `parse_fw_cfg`) → `<sysinfo
/// type='fwcfg'>`, which libvirt turns back into the same `-fw_cfg` (Fedora CoreOS's Ignition
/// config is given this way). libvirt takes only names under `opt/`, as QEMU recommends.
fn fw_cfg(domain: &mut Domain, a: &mut Args, i: usize) {
    let opts = parse_opts(a.opts[i].arg_text(), Some("name"));
    let name = get(&opts, "name").unwrap_or_default();
    let (file, string) = (get(&opts, "file"), get(&opts, "string"));
    let others = opts.iter().any(|o| !["name", "file", "string"].contains(&o.key.as_str()));
    if !name.starts_with("opt/") || file.is_some() == string.is_some() || others {
        return a.keep(i, "this -fw_cfg has no libvirt form (libvirt takes name=opt/…, with one file= or string=)");
    }
    // The guest reads the file: only a Proxmox snippet (`<storage>/snippets/`) is translated.
    if file.is_some_and(|f| !f.starts_with('/') || !f.contains("/snippets/") || f.split('/').any(|c| c == "..")) {
        return a.keep(i, "-fw_cfg hands the guest a host file outside a snippets directory; not translated");
    }
    let fwcfg = domain.sysinfo_fwcfg();
    fwcfg.entries.push(DomainSysinfoFwcfgEntry {
        name: name.to_owned(),
        file: file.map(str::to_owned),
        value: string.map(str::to_owned),
    });
    a.mapped(i, "sysinfo[fwcfg]/entry");
}

/// `-rtc base=utc|localtime|DATE,clock=…,driftfix=slew|none` (QEMU `configure_rtc`).
fn rtc(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize) {
    let opts = parse_opts(a.opts[i].arg_text(), None);
    for o in &opts {
        match (o.key.as_str(), o.value.as_str()) {
            ("base", "utc") => {
                domain.clock.offset = "utc".into();
                domain.clock.start = None;
            }
            ("base", "localtime") => {
                domain.clock.offset = "localtime".into();
                domain.clock.start = None;
            }
            // libvirt writes driftfix=slew for <timer name='rtc' tickpolicy='catchup'/>.
            ("driftfix", "slew") => set_timer(domain, "rtc", Some("catchup"), None),
            ("driftfix", "none") => {
                domain.clock.timers.retain(|t| t.name != "rtc" || t.tickpolicy != Some("catchup".into()))
            }
            ("clock", "host") => {}
            _ => a.sub_dropped(ctx, i, o, "the setting"),
        }
    }
    a.mapped(i, "clock");
}

/// `-global DRIVER.PROP=VALUE` (QEMU `qemu_global_option`).
fn global(ctx: &mut Ctx, domain: &mut Domain, a: &mut Args, i: usize) {
    let arg = a.opts[i].arg_text().to_owned();
    let parsed = arg.split_once('=').and_then(|(lhs, value)| {
        let (driver, prop) = lhs.split_once('.')?;
        Some((driver.to_owned(), prop.to_owned(), value.to_owned()))
    });
    let (driver, prop, value) = match parsed {
        Some(p) => p,
        None => {
            let opts = parse_opts(&arg, None);
            match (get(&opts, "driver"), get(&opts, "property"), get(&opts, "value")) {
                (Some(d), Some(p), Some(v)) => (d.to_owned(), p.to_owned(), v.to_owned()),
                _ => return a.keep(i, format!("-global {arg} is not DRIVER.PROP=VALUE")),
            }
        }
    };
    match (driver.as_str(), prop.as_str(), value.as_str()) {
        // libvirt writes exactly this for <timer name='pit' tickpolicy='…'/> (qemu_command.c
        // `qemuBuildClockCommandLine`).
        ("kvm-pit", "lost_tick_policy", policy @ ("discard" | "delay")) => {
            let policy = if policy == "discard" { "discard" } else { "delay" };
            set_timer(domain, "pit", Some(policy), None);
            a.mapped(i, "clock/timer[pit]@tickpolicy");
        }
        ("ICH9-LPC" | "PIIX4_PM", prop @ ("disable_s3" | "disable_s4"), v) if v.parse::<u8>().is_ok() => {
            let q35 = ctx.is_q35();
            if (driver == "ICH9-LPC") != q35 {
                a.mapped(i, "(no effect)");
                a.note(
                    ctx,
                    i,
                    Note::advice(
                        code::ARGS_NO_EFFECT,
                        format!(
                            "{driver} is not part of this machine ({}); QEMU ignores the setting",
                            ctx.machine.qemu_name()
                        ),
                    ),
                );
                return;
            }
            let policy = Some(DomainPmPolicy { enabled: if v == "0" { "yes".into() } else { "no".into() } });
            let pm = domain.pm.get_or_insert_with(DomainPm::default);
            if prop == "disable_s3" {
                pm.suspend_to_mem = policy;
                a.mapped(i, "pm/suspend-to-mem");
            } else {
                pm.suspend_to_disk = policy;
                a.mapped(i, "pm/suspend-to-disk");
            }
        }
        // An empty drive property detaches the floppy drive: libvirt attaches none unless a
        // floppy <disk> is given.
        ("isa-fdc", "driveA" | "driveB", "") => a.mapped(i, "(no floppy drive, as libvirt writes none)"),
        _ => a.keep(i, format!("-global {driver}.{prop} has no libvirt element")),
    }
}

#[cfg(test)]
mod tests {
    use crate::{convert, Options};

    /// Whatever `args` holds, the translation ends in a domain or an error, never a panic.
    #[test]
    fn any_args_translates_or_errs() {
        let pieces = [
            "-cpu",
            "-spice",
            "-device",
            "-object",
            "-chardev",
            "-smbios",
            "-global",
            "-fw_cfg",
            "-rtc",
            "-no-hpet",
            "host",
            "é",
            "+é",
            "-",
            "+",
            ",",
            ",,",
            "=",
            "'",
            "\"",
            "\\",
            "port=",
            "port=x",
            "addr=",
            "type=1",
            "type=11,value=",
            "ivshmem-plain,memdev=m",
            "memory-backend-file,id=m,share=on,mem-path=/dev/shm/",
            "size=",
            "size=99999999999999999999G",
            "hv_spinlocks=0x",
            "vendor=",
            "kvm-pit.",
            ".=",
            "virtio-tablet",
            "usb-kbd,bus=ehci.0,port=é",
            "bus=pcie.0,addr=0xzz.9",
            "ivshmem-doorbell,chardev=c",
            "socket,id=c,path=x",
            "vfio-pci,host=",
            "vfio-pci,host=01:00.9",
            "host=ffff:ff:1f.7",
            "usb-host,vendorid=0x",
            "hostbus=1,hostaddr=é",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut args = String::new();
            for _ in 0..(seed % 7) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                args.push_str(pieces[(seed % pieces.len() as u64) as usize]);
                args.push(if seed & 0x100 == 0 { ' ' } else { ',' });
            }
            let config = format!("args: {args}\nmachine: q35\naudio0: device=ich9-intel-hda\n");
            let opts = Options { vmid: Some(100), ..Default::default() };
            // Either outcome is fine; reaching here is the test.
            let _ = convert(&config, &opts);
        }
    }

    #[test]
    fn feature_names() {
        assert_eq!(super::libvirt_feature("sse4_1"), Some("sse4.1"));
        assert_eq!(super::libvirt_feature("lahf-lm"), Some("lahf_lm"));
        assert_eq!(super::libvirt_feature("invtsc"), Some("invtsc"));
        assert_eq!(super::libvirt_feature("tsc_deadline"), Some("tsc-deadline"));
        assert_eq!(super::libvirt_feature("sse3"), Some("pni"));
        assert_eq!(super::libvirt_feature("no-such-flag"), None);
    }
}
