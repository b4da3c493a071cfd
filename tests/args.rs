//! `args:` is translated option by option: each option gets its own `explain` row (`args[N]`),
//! each option left out gets its own note pointing at that option, and the idioms become native
//! elements rather than `<qemu:commandline>`.

mod common;

use pve2virt::report::Span;
use pve2virt::{convert, MapOptions, Options};

const LOOKING_GLASS: &str = "args: -spice port=5903,addr=0.0.0.0,disable-ticketing=on -device ivshmem-plain,memdev=ivshmem43,bus=pcie.0 -object memory-backend-file,id=ivshmem43,share=on,mem-path=/dev/shm/lg43,size=32M -device virtio-mouse -device virtio-keyboard\naudio0: device=ich9-intel-hda,driver=spice\nmachine: q35\nvga: none\n";

fn opts(allow: bool) -> Options {
    Options { vmid: Some(100), map: MapOptions { allow_qemu_args: allow, ..Default::default() }, ..Default::default() }
}

#[test]
fn looking_glass_becomes_native_elements() {
    let c = convert(LOOKING_GLASS, &opts(false)).expect("converts");
    let xml = &c.xml;
    assert!(xml.contains("<graphics type='spice' port='5903' autoport='no'>"), "{xml}");
    assert!(xml.contains("<listen type='address' address='0.0.0.0'/>"), "{xml}");
    assert!(
        xml.contains("<shmem name='lg43'>\n      <model type='ivshmem-plain'/>\n      <size unit='M'>32</size>"),
        "{xml}"
    );
    // Where QEMU put them under Proxmox: the root bus's free slots in order (vga: none leaves 0x1).
    let at =
        |slot: &str| format!("\n      <address type='pci' domain='0x0000' bus='0x00' slot='{slot}' function='0x0'/>");
    assert!(xml.contains(&format!("<size unit='M'>32</size>{}", at("0x01"))), "{xml}");
    assert!(xml.contains(&format!("<input type='mouse' bus='virtio'>{}", at("0x02"))), "{xml}");
    assert!(xml.contains(&format!("<input type='keyboard' bus='virtio'>{}", at("0x03"))), "{xml}");
    assert!(!xml.contains("qemu:commandline"), "{xml}");
    // The SPICE server of args is the one spice audio uses: no second, host-side one.
    assert_eq!(xml.matches("<graphics type='spice'").count(), 1, "{xml}");
    assert!(c.notes.iter().all(|n| n.code != "pve2virt::map::audio_spice_server"));
    assert!(c.notes.iter().all(|n| n.code != "pve2virt::map::qemu_args_dropped"), "{:?}", c.notes);
}

#[test]
fn explain_has_one_row_per_option() {
    let c = convert(LOOKING_GLASS, &opts(false)).expect("converts");
    let rows: Vec<(&str, &str)> = c
        .outcomes
        .iter()
        .filter(|o| o.key.starts_with("args["))
        .map(|o| (o.key.as_str(), o.became.first().map_or("", String::as_str)))
        .collect();
    assert_eq!(
        rows,
        [
            ("args[0]", "devices/graphics[spice]"),
            ("args[1]", "devices/shmem[ivshmem-plain]"),
            ("args[2]", "devices/shmem (backend of args[1])"),
            ("args[3]", "devices/input[mouse,virtio]"),
            ("args[4]", "devices/input[keyboard,virtio]"),
        ]
    );
    // The rows follow the `args` row.
    let at = c.outcomes.iter().position(|o| o.key == "args").unwrap();
    assert_eq!(c.outcomes[at + 1].key, "args[0]");
    assert_eq!(c.outcomes[at + 1].value, "-spice port=5903,addr=0.0.0.0,disable-ticketing=on");
}

#[test]
fn one_note_per_dropped_option_each_at_its_option() {
    let config = "args: -device isa-applesmc,osk=\"ourhardwork\" -smbios type=2 -global nec-usb-xhci.msi=off -device usb-kbd,bus=ehci.0,port=2\nmachine: q35\n";
    let c = convert(config, &opts(false)).expect("converts");
    let dropped: Vec<Span> =
        c.notes.iter().filter(|n| n.code == "pve2virt::map::qemu_args_dropped").filter_map(|n| n.span).collect();
    let text = |s: Span| &config[s.offset..s.end()];
    assert_eq!(
        dropped.iter().map(|s| text(*s)).collect::<Vec<_>>(),
        ["-device isa-applesmc,osk=\"ourhardwork\"", "-smbios type=2", "-global nec-usb-xhci.msi=off"]
    );
    assert!(
        c.xml.contains("<input type='keyboard' bus='usb'>\n      <address type='usb' bus='0' port='2'/>"),
        "{}",
        c.xml
    );

    // Allowed: the same options are passed through, each with its own advice.
    let c = convert(config, &opts(true)).expect("converts");
    assert_eq!(c.notes.iter().filter(|n| n.code == "pve2virt::map::qemu_args_passed").count(), 3);
    assert!(c.xml.contains(
        "<qemu:arg value='-device'/>\n    <qemu:arg value='isa-applesmc,osk=ourhardwork'/>\n    <qemu:arg value='-smbios'/>"
    ));
    assert!(!c.xml.contains("usb-kbd"), "the keyboard is native, not passed through: {}", c.xml);
}

#[test]
fn cpu_from_args_replaces_cpu_and_ostype() {
    let config = "args: -cpu host,hv_vendor_id=NV43FIX,kvm=off,hv_relaxed,+invtsc,-hypervisor,level=13,+kvm_pv_unhalt,+kvm_pv_eoi\ncpu: kvm64,flags=+aes\nostype: win10\n";
    let c = convert(config, &opts(false)).expect("converts");
    let xml = &c.xml;
    assert!(xml.contains("<cpu mode='host-passthrough' check='none' migratable='on'>"), "{xml}");
    assert!(!xml.contains("name='aes'"), "cpu: flags give way to args' -cpu: {xml}");
    assert!(xml.contains("<feature policy='require' name='invtsc'/>"), "{xml}");
    assert!(xml.contains("<feature policy='disable' name='hypervisor'/>"), "{xml}");
    assert!(
        xml.contains("<relaxed state='on'/>\n      <vendor_id state='on' value='NV43FIX'/>\n    </hyperv>"),
        "{xml}"
    );
    assert!(xml.contains("<kvm>\n      <hidden state='on'/>"), "{xml}");
    // QEMU's kvm_pv_* flags are libvirt domain features.
    assert!(xml.contains("<apic eoi='on'/>") && xml.contains("<pvspinlock state='on'/>"), "{xml}");
    assert!(!xml.contains("kvm_pv"), "{xml}");
    let level = c.notes.iter().find(|n| n.code == "pve2virt::map::args_suboption_dropped").expect("level noted");
    let span = level.span.unwrap();
    assert_eq!(&config[span.offset..span.end()], "level=13");
}

#[test]
fn smbios_from_args_merges_with_smbios1() {
    let config = "args: -smbios 'type=1,manufacturer=Dell Inc.,serial=7XK9M2J' -smbios type=0,vendor=AMI -smbios type=11,value=a,,b\nsmbios1: uuid=4c4c4544-0058-4b10-8039-b7c04f4d324a,manufacturer=UUVNVQ==,product=Ujc0MA==,base64=1\n";
    let c = convert(config, &opts(false)).expect("converts");
    let xml = &c.xml;
    assert!(
        xml.contains(
            "<bios>\n      <entry name='vendor'>AMI</entry>\n    </bios>\n    <system>\n      <entry name='manufacturer'>Dell Inc.</entry>\n      <entry name='product'>R740</entry>\n      <entry name='serial'>7XK9M2J</entry>\n      <entry name='uuid'>4c4c4544-0058-4b10-8039-b7c04f4d324a</entry>"
        ),
        "{xml}"
    );
    assert!(xml.contains("<oemStrings>\n      <entry>a,b</entry>\n    </oemStrings>"), "{xml}");
    assert!(xml.contains("<smbios mode='sysinfo'/>"), "{xml}");
}

#[test]
fn spice_audio_without_spice_display_gets_a_server() {
    let c = convert("audio0: device=ich9-intel-hda,driver=spice\nvga: std\n", &opts(false)).expect("converts");
    assert!(c.xml.contains("<graphics type='spice' autoport='yes'>"), "{}", c.xml);
    assert!(c.notes.iter().any(|n| n.code == "pve2virt::map::audio_spice_server"));
    let c = convert("audio0: device=ich9-intel-hda,driver=none\nvga: std\n", &opts(false)).expect("converts");
    assert!(!c.xml.contains("type='spice'"), "{}", c.xml);
}

#[test]
fn serial_console_has_no_graphics() {
    let c = convert("vga: serial0\nserial0: socket\n", &opts(false)).expect("converts");
    assert!(!c.xml.contains("<graphics"), "{}", c.xml);
    assert!(c.xml.contains("<model type='none'/>"), "{}", c.xml);
    assert!(c.xml.contains("<serial type='pty'>"), "{}", c.xml);
}

#[test]
fn a_root_bus_slot_is_kept_when_free() {
    let config = |addr: &str| {
        format!("args: -device ivshmem-plain,memdev=m,bus=pcie.0,addr={addr} -object memory-backend-file,id=m,share=on,mem-path=/dev/shm/lg,size=32M\nmachine: q35\n")
    };
    let c = convert(&config("0x10"), &opts(false)).expect("converts");
    assert!(c.xml.contains("<size unit='M'>32</size>\n      <address type='pci' domain='0x0000' bus='0x00' slot='0x10' function='0x0'/>"), "{}", c.xml);
    // 0x1e is Proxmox's dmi-to-pci-bridge: libvirt places the device instead of refusing a double use.
    let c = convert(&config("0x1e"), &opts(false)).expect("converts");
    assert!(c.xml.contains("<size unit='M'>32</size>\n    </shmem>"), "{}", c.xml);
}

#[test]
fn a_shared_memory_size_libvirt_refuses_is_reported() {
    let config = "args: -device ivshmem-plain,memdev=m -object memory-backend-file,id=m,share=on,mem-path=/dev/shm/lg,size=48M\n";
    let c = convert(config, &opts(false)).expect("converts");
    assert!(!c.xml.contains("<shmem"), "{}", c.xml);
    // The device and its backend, each reported on its own.
    assert_eq!(c.notes.iter().filter(|n| n.code == "pve2virt::map::qemu_args_dropped").count(), 2, "{:?}", c.notes);
}

/// Random `args` lines from the idioms' pieces: whatever converts is a domain libvirt validates
/// and defines (its test driver), so no odd value slips into an attribute its schema refuses.
#[test]
fn random_args_give_domains_libvirt_accepts() {
    if common::libvirt_tools_or_skip("random_args_give_domains_libvirt_accepts").is_none() {
        return;
    }
    let pieces = [
        "-spice",
        "port=5900",
        "addr=é",
        "addr=::1",
        "unix=on",
        "addr=/run/x.sock",
        "password=p w",
        "disable-ticketing=on",
        "-device",
        "virtio-tablet",
        "usb-kbd,bus=ehci.0,port=9",
        "ivshmem-plain,memdev=m,bus=pcie.0,addr=0x2",
        "-object",
        "memory-backend-file,id=m,share=on,mem-path=/dev/shm/a b,size=16M",
        "-cpu",
        "host,hv_vendor_id=a<b>,kvm=off",
        "Skylake-Client,vendor=Genuine<ntel,+é",
        "-smbios",
        "type=1,serial=<&>",
        "type=11,value=",
        "-fw_cfg",
        "name=opt/é,string=<x>",
        "-global",
        "kvm-pit.lost_tick_policy=delay",
        "-rtc",
        "base=localtime",
        "vfio-pci,host=01:00.0,romfile=/a'b",
        "usb-host,vendorid=1,productid=2",
        "-chardev",
        "socket,id=c,path=/s'",
        "ivshmem-doorbell,chardev=c,vectors=2",
    ];
    let scratch = std::env::temp_dir().join(format!("pve2virt-args-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut problems = Vec::new();
    for case in 0..120 {
        let mut words = Vec::new();
        for _ in 0..(2 + seed % 8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let piece = pieces[(seed % pieces.len() as u64) as usize];
            words.push(if piece.contains([' ', '\'', '<']) { format!("\"{piece}\"") } else { piece.to_owned() });
        }
        let config = format!("args: {}\nmachine: q35\n", words.join(" "));
        if let Ok(c) = convert(&config, &opts(case % 2 == 0)) {
            for p in common::libvirt_judge(&c.xml, &scratch, &format!("args-{case}")) {
                problems.push(format!("{config}→ {p}"));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn kept_options_stay_in_order_and_are_kept_once() {
    let config = "args: -object input-linux,id=k,evdev=/dev/input/event3 -device intel-hda -object\n";
    let c = convert(config, &opts(true)).expect("converts");
    let args: Vec<&str> = c.xml.lines().filter_map(|l| l.trim().strip_prefix("<qemu:arg value='")).collect();
    assert_eq!(
        args,
        ["-object'/>", "input-linux,id=k,evdev=/dev/input/event3'/>", "-device'/>", "intel-hda'/>", "-object'/>"]
    );
    assert_eq!(c.notes.iter().filter(|n| n.code == "pve2virt::map::qemu_args_passed").count(), 3);
}

/// A host file the guest would read is translated only from where Proxmox keeps such files;
/// anywhere else only --allow-qemu-args passes it on.
#[test]
fn host_files_outside_their_places_are_not_translated() {
    for (config, native) in [
        ("args: -fw_cfg name=opt/x,file=/etc/shadow\n", "file='/etc/shadow'"),
        ("args: -fw_cfg name=opt/x,file=/var/lib/vz/snippets/../../../etc/shadow\n", "shadow"),
        ("args: -device vfio-pci,host=01:00.0,romfile=/etc/shadow\n", "<rom"),
        ("args: -device vfio-pci,host=01:00.0,romfile=/usr/share/kvm/../../../etc/shadow\n", "<rom"),
        ("args: -spice port=5900,disable-ticketing=on,gl=on,rendernode=/etc/shadow\n", "rendernode"),
    ] {
        let c = convert(config, &opts(false)).expect("converts");
        assert!(!c.xml.contains(native), "{config}: {}", c.xml);
        assert!(
            c.notes
                .iter()
                .any(|n| n.code == "pve2virt::map::qemu_args_dropped"
                    || n.code == "pve2virt::map::args_suboption_dropped"),
            "{config}: {:?}",
            c.notes
        );
    }
    let c =
        convert("args: -fw_cfg name=opt/com.coreos/config,file=/mnt/pve/nfs/snippets/a.ign\n", &opts(false)).unwrap();
    assert!(c.xml.contains("file='/mnt/pve/nfs/snippets/a.ign'"), "{}", c.xml);
}
