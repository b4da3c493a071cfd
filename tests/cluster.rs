//! The files beside the XML (`<vmid>.nwfilter.xml`, `<vmid>.qemu-hook`), and the proof that the
//! VLAN modes and the firewall start on a real libvirt: bridges made for the test, domains
//! defined and started paused on `qemu:///system`, removed afterwards.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pve2virt-cluster-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture(rel: &str) -> String {
    root().join("fixtures").join(rel).display().to_string()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A custom model's flags come from cpu-models.conf unchecked by any schema of the VM's: an
/// invalid one (here a non-ASCII first character, which once panicked the map) is left out with a
/// note, and the model is still used.
#[test]
fn invalid_custom_model_flags_are_a_note_not_a_panic() {
    let dir = scratch("bad-flags");
    fs::create_dir_all(dir.join("pve/virtual-guest")).unwrap();
    fs::write(dir.join("pve/virtual-guest/cpu-models.conf"), "cpu-model: lab\n\tflags é;+aes\n\treported-model EPYC\n")
        .unwrap();
    fs::write(dir.join("150.conf"), "cpu: custom-lab\nmemory: 1024\n").unwrap();
    let run = run(&dir, &args(&["convert", "150.conf", "--pve-root", "pve", "--report", "json"]), None);
    assert_eq!(run.exit, 0, "{}", run.stderr);
    assert!(run.stderr.contains("pve2virt::cluster::value"), "{}", run.stderr);
    assert!(run.stdout.contains("<model fallback='forbid'>EPYC</model>"), "{}", run.stdout);
    assert!(!run.stdout.contains("name='aes'"), "{}", run.stdout);
}

#[test]
fn side_files_go_beside_the_xml_and_never_to_stdout() {
    let dir = scratch("side");
    let pve_root = fixture("cluster/pve-root");
    let conf = fixture("cluster/firewall.conf");
    // -o FILE: the nwfilter lands in FILE's folder.
    let out = dir.join("o/web.xml");
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    let run1 = run(
        &dir,
        &args(&[
            "convert",
            &conf,
            "--vmid",
            "130",
            "--pve-root",
            &pve_root,
            "--pve-node",
            "pve1",
            "-o",
            &out.display().to_string(),
        ]),
        None,
    );
    assert_eq!(run1.exit, 0, "{}", run1.stderr);
    // 130.fw has a rule for net1 only (-i net1): each NIC gets its own filter.
    let filter = fs::read_to_string(dir.join("o/130-net1.nwfilter.xml")).expect("130-net1.nwfilter.xml beside -o");
    assert!(filter.starts_with("<filter name='pve-vm-130-net1' chain='root'>\n"), "{filter}");
    assert!(filter.contains("<tcp dstportstart='9100'/>"), "{filter}");
    let net0 = fs::read_to_string(dir.join("o/130-net0.nwfilter.xml")).expect("130-net0.nwfilter.xml beside -o");
    assert!(!net0.contains("9100"), "{net0}");
    let xml = fs::read_to_string(&out).unwrap();
    assert!(
        xml.contains("<filterref filter='pve-vm-130-net0'/>") && xml.contains("<filterref filter='pve-vm-130-net1'/>")
    );
    // --out-dir: both files in DIR.
    let run2 = run(
        &dir,
        &args(&["convert", &conf, "--vmid", "130", "--pve-root", &pve_root, "--pve-node", "pve1", "--out-dir", "d"]),
        None,
    );
    assert_eq!(run2.exit, 0, "{}", run2.stderr);
    assert_eq!(fs::read_to_string(dir.join("d/130-net1.nwfilter.xml")).unwrap(), filter);
    // The hook is executable.
    let hook = fixture("shapes/trunk-router.conf");
    let run3 = run(&dir, &args(&["convert", &hook, "--vmid", "200", "--vlan-mode", "hook", "--out-dir", "h"]), None);
    assert_eq!(run3.exit, 0, "{}", run3.stderr);
    let mode = fs::metadata(dir.join("h/200.qemu-hook")).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "hook mode {mode:o}");
    // Standard output: the XML only, no file anywhere in the working folder.
    let before: Vec<_> = fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
    let run4 = run(&dir, &args(&["convert", &hook, "--vmid", "200", "--vlan-mode", "hook"]), None);
    assert_eq!(run4.exit, 0);
    assert!(run4.stdout.starts_with("<domain ") && run4.stdout.ends_with("</domain>\n"));
    let after: Vec<_> = fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(before, after);
    assert!(run4.stderr.contains("not with the XML on standard output"), "{}", run4.stderr);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_nwfilter_is_valid_for_libvirt() {
    if libvirt_tools_or_skip("the_nwfilter_is_valid_for_libvirt").is_none() {
        return;
    }
    let dir = scratch("validate");
    let run = run(
        &dir,
        &args(&[
            "convert",
            &fixture("cluster/firewall.conf"),
            "--vmid",
            "130",
            "--pve-root",
            &fixture("cluster/pve-root"),
            "--out-dir",
            ".",
        ]),
        None,
    );
    assert_eq!(run.exit, 0, "{}", run.stderr);
    for f in ["130-net0.nwfilter.xml", "130-net1.nwfilter.xml"] {
        let v = Command::new("virt-xml-validate").arg(dir.join(f)).arg("nwfilter").output().unwrap();
        assert!(v.status.success(), "{}{}", String::from_utf8_lossy(&v.stdout), String::from_utf8_lossy(&v.stderr));
    }
    let _ = fs::remove_dir_all(&dir);
}

/// Removes what a live test made, whatever happens.
struct Cleanup {
    domains: Vec<String>,
    filters: Vec<String>,
    bridges: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for d in &self.domains {
            let _ = virsh(&["destroy", d]);
            let _ = virsh(&["undefine", "--keep-nvram", d]);
        }
        for f in &self.filters {
            let _ = virsh(&["nwfilter-undefine", f]);
        }
        for b in &self.bridges {
            let _ = Command::new("ip").args(["link", "del", b]).output();
        }
    }
}

fn virsh(a: &[&str]) -> Result<String, String> {
    let out = Command::new("virsh").args(["-q", "-c", "qemu:///system"]).args(a).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("virsh {}: {}", a.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn sh(cmd: &[&str]) {
    let out = Command::new(cmd[0]).args(&cmd[1..]).output().unwrap();
    assert!(out.status.success(), "{}: {}", cmd.join(" "), String::from_utf8_lossy(&out.stderr));
}

/// The domain XML, renamed into this test's namespace and without a display (a VNC port is a
/// shared resource on a busy host, and not what is tested).
fn prepare(xml: &Path, name: &str) -> String {
    let mut domain = pve2virt::libvirt::from_xml(&fs::read_to_string(xml).unwrap()).unwrap();
    domain.name = name.to_owned();
    domain.devices.graphics.clear();
    let text = pve2virt::libvirt::to_xml(&domain).unwrap();
    fs::write(xml, &text).unwrap();
    text
}

/// Whether the live checks must run: `.ci/cluster` sets PVE2VIRT_LIVE=1 (as root, with libvirtd
/// up); then a missing tool is a failure. Elsewhere they run when they can and skip loudly.
fn live_required() -> bool {
    std::env::var("PVE2VIRT_LIVE").is_ok_and(|v| v == "1")
}

fn skip(test: &str, why: &str) {
    let message = format!("\n\n!!! {test}: SKIPPED — {why} (.ci/cluster runs it)\n\n");
    if live_required() {
        panic!("{message}(PVE2VIRT_LIVE=1: a skipped check is a failure)");
    }
    eprintln!("{message}");
}

fn live_or_skip(test: &str) -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n");
    let system = root && have("ip") && virsh(&["version"]).is_ok();
    if !system {
        skip(test, "needs root, `ip` and a libvirtd answering on qemu:///system");
    }
    system
}

#[test]
fn vlans_and_the_firewall_start_on_qemu_system() {
    if !live_or_skip("vlans_and_the_firewall_start_on_qemu_system") {
        return;
    }
    let pid = std::process::id() % 10000;
    let br = format!("p2v{pid}");
    let dir = scratch("live");
    let mut cleanup = Cleanup { domains: Vec::new(), filters: Vec::new(), bridges: Vec::new() };
    for b in [br.clone(), format!("{br}v20"), format!("{br}v30")] {
        sh(&["ip", "link", "add", &b, "type", "bridge"]);
        cleanup.bridges.push(b.clone());
        sh(&["ip", "link", "set", &b, "up"]);
    }
    let map = format!("vmbr0={br}");
    // A VMID of this run's own, so that the tap names (tap<vmid>iN) of concurrent runs differ.
    let vmid = 20000 + pid;
    let conf = dir.join(format!("{vmid}.conf"));
    fs::write(
        &conf,
        "name: vlan\nmemory: 128\nnet0: virtio=BC:24:11:91:10:01,bridge=vmbr0,tag=20\n\
         net1: virtio=BC:24:11:91:10:02,bridge=vmbr0,tag=30,firewall=1\nnet2: virtio=BC:24:11:91:10:03,bridge=vmbr0\nostype: l26\n",
    )
    .unwrap();
    let conf = conf.display().to_string();
    let pve_root = fixture("cluster/pve-root");

    // bridge-per-vlan (the default): the NICs sit on <br>v20 and <br>v30.
    let run1 =
        run(&dir, &args(&["convert", &conf, "--domain-type", "qemu", "--map-bridge", &map, "-o", "bpv.xml"]), None);
    assert_eq!(run1.exit, 0, "{}", run1.stderr);
    let name = format!("cluster-test-bpv-{pid}");
    prepare(&dir.join("bpv.xml"), &name);
    virsh(&["define", &dir.join("bpv.xml").display().to_string()]).unwrap();
    cleanup.domains.push(name.clone());
    virsh(&["start", "--paused", &name]).unwrap();
    let ifaces = virsh(&["domiflist", &name]).unwrap();
    for (tap, bridge) in [
        (format!("tap{vmid}i0"), format!("{br}v20")),
        (format!("tap{vmid}i1"), format!("{br}v30")),
        (format!("tap{vmid}i2"), br.clone()),
    ] {
        assert!(
            ifaces.lines().any(|l| l.split_whitespace().next() == Some(tap.as_str())
                && l.split_whitespace().nth(2) == Some(bridge.as_str())),
            "{tap} not on {bridge}:\n{ifaces}"
        );
    }
    virsh(&["destroy", &name]).unwrap();

    // hook: the NICs sit on the bridge itself; the hook tags their taps.
    let run2 = run(
        &dir,
        &args(&[
            "convert",
            &conf,
            "--domain-type",
            "qemu",
            "--map-bridge",
            &map,
            "--vlan-mode",
            "hook",
            "-o",
            "hook.xml",
        ]),
        None,
    );
    assert_eq!(run2.exit, 0, "{}", run2.stderr);
    let name = format!("cluster-test-hook-{pid}");
    prepare(&dir.join("hook.xml"), &name);
    let hook_file = dir.join(format!("{vmid}.qemu-hook"));
    let hook = fs::read_to_string(&hook_file).unwrap().replace("= 'vlan' ]", &format!("= '{name}' ]"));
    fs::write(&hook_file, hook).unwrap();
    let filtering =
        Command::new("ip").args(["link", "set", &br, "type", "bridge", "vlan_filtering", "1"]).output().unwrap();
    virsh(&["define", &dir.join("hook.xml").display().to_string()]).unwrap();
    cleanup.domains.push(name.clone());
    virsh(&["start", "--paused", &name]).unwrap();
    let ifaces = virsh(&["domiflist", &name]).unwrap();
    assert_eq!(ifaces.matches(&format!(" {br} ")).count(), 3, "{ifaces}");
    if filtering.status.success() {
        // libvirtd reads its hooks when it starts, and this test must not restart it: the hook
        // is run by hand with the arguments libvirt gives it.
        let h = Command::new(&hook_file).args([&name, "started", "begin", "-"]).output().unwrap();
        assert!(h.status.success(), "hook: {}", String::from_utf8_lossy(&h.stderr));
        let show = Command::new("bridge").args(["vlan", "show", "dev", &format!("tap{vmid}i0")]).output().unwrap();
        let show = String::from_utf8_lossy(&show.stdout);
        assert!(show.contains("20 PVID") || show.contains("20 PVID Egress Untagged"), "{show}");
    } else {
        eprintln!(
            "!!! this kernel has no bridge VLAN filtering ({}): the hook's `bridge vlan` part was not run",
            String::from_utf8_lossy(&filtering.stderr).trim()
        );
    }
    virsh(&["destroy", &name]).unwrap();

    // firewall: net1 (firewall=1) references the VM's nwfilter, defined first.
    let run3 = run(
        &dir,
        &args(&[
            "convert",
            &conf,
            "--vmid",
            "130",
            "--domain-type",
            "qemu",
            "--map-bridge",
            &map,
            "--pve-root",
            &pve_root,
            "-o",
            "fw.xml",
        ]),
        None,
    );
    assert_eq!(run3.exit, 0, "{}", run3.stderr);
    // Only net1 has firewall=1; 130.fw has a rule for net1, so the filter is net1's own.
    let filter = format!("cluster-pve-vm-130-{pid}");
    for f in ["fw.xml", "130-net1.nwfilter.xml"] {
        let text = fs::read_to_string(dir.join(f)).unwrap().replace("pve-vm-130-net1", &filter);
        fs::write(dir.join(f), text).unwrap();
    }
    let name = format!("cluster-test-fw-{pid}");
    let xml = prepare(&dir.join("fw.xml"), &name);
    assert_eq!(xml.matches(&format!("<filterref filter='{filter}'/>")).count(), 1, "{xml}");
    virsh(&["nwfilter-define", &dir.join("130-net1.nwfilter.xml").display().to_string()]).unwrap();
    cleanup.filters.push(filter.clone());
    virsh(&["define", &dir.join("fw.xml").display().to_string()]).unwrap();
    cleanup.domains.insert(0, name.clone());
    match virsh(&["start", "--paused", &name]) {
        Ok(_) => {}
        // The nwfilter driver needs ebtables and iptables on the host.
        Err(e) if e.contains("ebtables") || e.contains("iptables") => {
            if live_required() {
                panic!("{e}: install ebtables and iptables");
            }
            eprintln!("!!! the domain with the nwfilter did not start for lack of host tools: {e}");
        }
        Err(e) => panic!("{e}"),
    }
    drop(cleanup);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn regenerated_cloudinit_seed_matches_proxmox_layout() {
    if !have("genisoimage") || !have("isoinfo") {
        skip(
            "regenerated_cloudinit_seed_matches_proxmox_layout",
            "genisoimage not found (apt-get install genisoimage)",
        );
        return;
    }
    let dir = scratch("ci");
    let out = dir.join("seeds");
    let run1 = run(
        &root().join("fixtures"),
        &args(&[
            "convert",
            "shapes/cloudinit-template.conf",
            "--vmid",
            "9000",
            "--map-storage",
            "local=cluster/vz",
            "--regenerate-cloudinit",
            &out.display().to_string(),
        ]),
        None,
    );
    assert_eq!(run1.exit, 0, "{}", run1.stderr);
    let iso = out.join("9000-cloudinit.iso");
    assert!(run1.stdout.contains(&format!("<source file='{}'/>", iso.display())), "{}", run1.stdout);
    let info = |a: &[&str]| {
        let o = Command::new("isoinfo").args(a).arg("-i").arg(&iso).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(info(&["-d"]).contains("Volume id: cidata"));
    let user = info(&["-J", "-x", "/user-data"]);
    let network = info(&["-J", "-x", "/network-config"]);
    assert!(user.starts_with("#cloud-config\nhostname: debian12-ci\nmanage_etc_hosts: true\nfqdn: debian12-ci.example.org\nuser: debian\n"), "{user}");
    assert!(
        user.contains("ssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG admin@example.org\n"),
        "{user}"
    );
    assert!(network.contains("    - type: physical\n      name: eth0\n      mac_address: 'bc:24:11:31:00:01'\n      subnets:\n      - type: static\n        address: '10.0.0.50'\n        netmask: '255.255.255.0'\n"), "{network}");
    // The instance id is sha1(user-data . network-config), as Cloudinit.pm computes it.
    fs::write(dir.join("u"), &user).unwrap();
    fs::write(dir.join("n"), &network).unwrap();
    let sum = Command::new("sh").arg("-c").arg(format!("cat {0}/u {0}/n | sha1sum", dir.display())).output().unwrap();
    let sum = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap_or_default().to_owned();
    assert_eq!(info(&["-J", "-x", "/meta-data"]), format!("instance-id: {sum}\n"));
    assert!(info(&["-J", "-x", "/vendor-data"]).contains("qemu-guest-agent"));
    // A second run without --force keeps the ISO.
    let run2 = run(
        &root().join("fixtures"),
        &args(&[
            "convert",
            "shapes/cloudinit-template.conf",
            "--vmid",
            "9000",
            "--map-storage",
            "local=cluster/vz",
            "--regenerate-cloudinit",
            &out.display().to_string(),
        ]),
        None,
    );
    assert_eq!(run2.exit, 4, "{}", run2.stderr);
    assert!(run2.stdout.is_empty());
    let _ = fs::remove_dir_all(&dir);
}
