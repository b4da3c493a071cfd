//! `pve2virt plan`: the plans of storages that cannot run here (ZFS, RBD, iSCSI, ZFS over iSCSI,
//! LVM) pinned by snapshots; the script run under `sh` against hostile names; the TPM state
//! conversion proved with real swtpm and tpm2-tools.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A fresh `/etc/pve`-shaped tree.
fn tree(name: &str, storage_cfg: &str, conf: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pve2virt-tree-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("pve/qemu-server")).unwrap();
    fs::write(dir.join("pve/storage.cfg"), storage_cfg).unwrap();
    fs::write(dir.join("pve/qemu-server/100.conf"), conf).unwrap();
    dir
}

fn plan(dir: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "plan".into(),
        "100".into(),
        "--pve-root".into(),
        dir.join("pve").display().to_string(),
        "--target-dir".into(),
        "/srv/target".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut r = run(dir, &args, None);
    let shown = dir.display().to_string();
    r.stdout = r.stdout.replace(&shown, "<TREE>");
    r.stderr = r.stderr.replace(&shown, "<TREE>");
    r
}

const NETWORK_STORAGES: &str = "\
zfspool: zp
\tpool rpool/data
\tcontent images

rbd: ceph
\tpool vms
\tmonhost 10.0.0.1 10.0.0.2:6789
\tusername admin
\tcontent images

iscsi: san
\tportal 10.0.0.9
\ttarget iqn.2003-01.org.example:storage
\tcontent images

zfs: zfsiscsi
\tpool tank
\tportal 10.0.0.10:3261
\ttarget iqn.2003-01.org.example:zfs
\tiscsiprovider LIO
\tlio_tpg tpg1
\tcontent images

lvmthin: thin
\tvgname pve
\tthinpool data
\tcontent images
";

const NETWORK_CONF: &str = "\
bios: ovmf
efidisk0: thin:vm-100-disk-9,efitype=4m,size=4M
ide2: zp:vm-100-cloudinit,media=cdrom
memory: 1024
name: storages
scsi0: zp:vm-100-disk-0,size=32G
scsi1: ceph:vm-100-disk-1,size=8G
scsi2: san:0.0.1.scsi-36001405abcdef,size=100G
scsi3: zfsiscsi:vm-100-disk-2,size=16G
smbios1: uuid=6b7c4a57-3f1e-4f5b-9a34-2bd0b6c1e0aa
tpmstate0: thin:vm-100-disk-8,size=4M,version=v2.0
unused0: thin:vm-100-disk-7
";

#[test]
fn plans_of_storages_that_cannot_run_here() {
    let dir = tree("net", NETWORK_STORAGES, NETWORK_CONF);
    let json = plan(&dir, &["--json"]);
    assert_eq!(json.exit, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let vols = v["vms"][0]["volumes"].as_array().unwrap();
    let keys: Vec<&str> = vols.iter().map(|v| v["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["efidisk0", "tpmstate0", "ide2", "scsi0", "scsi1", "scsi2", "scsi3"]);
    // Nothing is readable here: every size comes from the config; the cloud-init drive has none.
    for v in vols {
        let want = if v["key"] == "ide2" { "unknown" } else { "config" };
        assert_eq!(v["bytes_from"], want, "{}", v["key"]);
    }
    insta::with_settings!({ snapshot_path => root().join("snapshots"), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("plan__network_storages_json", json.stdout);
        insta::assert_snapshot!("plan__network_storages_table", plan(&dir, &[]).stdout);
        insta::assert_snapshot!("plan__network_storages_script", plan(&dir, &["--script"]).stdout);
    });
    let with_unused = plan(&dir, &["--json", "--include-unused"]);
    let v: serde_json::Value = serde_json::from_str(&with_unused.stdout).unwrap();
    assert!(v["vms"][0]["volumes"].as_array().unwrap().iter().any(|v| v["key"] == "unused0"));
    let _ = fs::remove_dir_all(&dir);
}

fn tools_or_skip(test: &str, tools: &[&str]) -> bool {
    prerequisites_or_skip(test, tools, &[])
}

/// [`tools_or_skip`], and files a package installs (OVMF's varstore template).
fn prerequisites_or_skip(test: &str, tools: &[&str], files: &[&str]) -> bool {
    let mut missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    missing.extend(files.iter().copied().filter(|f| !Path::new(f).exists()));
    if missing.is_empty() {
        return true;
    }
    let message = format!("SKIPPED {test}: {missing:?} not installed");
    if in_ci() {
        panic!("{message} (CI=true: a skipped check is a failure)");
    }
    eprintln!("{message}");
    false
}

/// A storage path and a volume name that would run commands if the script ever let the shell
/// parse them: the script is run under `sh`, and nothing may be executed.
#[test]
fn the_script_quotes_hostile_names_and_is_idempotent() {
    if !tools_or_skip("the_script_quotes_hostile_names_and_is_idempotent", &["qemu-img", "qemu-io", "virsh"]) {
        return;
    }
    let base = std::env::temp_dir().join(format!("pve2virt-plan-hostile-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let store = base.join("it's $(touch PWNED1) `touch PWNED2` dir");
    let images = store.join("images/100");
    fs::create_dir_all(&images).unwrap();
    let disk_name = "vm-100-disk-0;touch PWNED3;'$(touch PWNED4).qcow2";
    let disk = images.join(disk_name);
    let status = Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&disk).arg("16M").status();
    assert!(status.unwrap().success());
    let io = Command::new("qemu-io").args(["-f", "qcow2", "-c", "write -P 0x7e 0 1M"]).arg(&disk).output();
    assert!(io.unwrap().status.success());
    let cfg = format!("dir: hostile\n\tpath {}\n\tcontent images\n", store.display());
    let conf = format!("memory: 512\nname: hostile\nscsi0: hostile:100/{disk_name},size=16M\n");
    let dir = tree("hostile", &cfg, &conf);
    let target = base.join("target $(touch PWNED5) 'x'");
    let args: Vec<String> = vec![
        "plan".into(),
        "100".into(),
        "--pve-root".into(),
        dir.join("pve").display().to_string(),
        "--target-dir".into(),
        target.display().to_string(),
        "--script".into(),
    ];
    let r = run(&dir, &args, None);
    assert_eq!(r.exit, 0, "{}", r.stderr);
    let script = base.join("plan.sh");
    fs::write(&script, &r.stdout).unwrap();
    for round in 0..2 {
        // libvirt's test driver (in memory, per connection): the script's `virsh define` runs
        // without touching a real host.
        let out = Command::new("sh")
            .arg(&script)
            .current_dir(&base)
            .env("LIBVIRT_DEFAULT_URI", "test:///default")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "round {round}: {}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
        if round == 1 {
            assert!(stdout.contains("verified, skipped"), "the second run must skip: {stdout}");
        }
    }
    assert!(target.join("100.xml").exists(), "the script writes the domain XML");
    let copy = target.join("100-scsi0.raw");
    let cmp =
        Command::new("qemu-img").args(["compare", "-q", "-f", "qcow2", "-F", "raw"]).arg(&disk).arg(&copy).status();
    assert!(cmp.unwrap().success(), "the copy equals the source");
    let pwned: Vec<PathBuf> = walk(&base)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("PWNED")))
        .collect();
    assert!(pwned.is_empty(), "the script executed a name: {pwned:?}");
    assert!(!dir.join("PWNED1").exists() && !Path::new("PWNED1").exists());
    let _ = fs::remove_dir_all(&base);
    let _ = fs::remove_dir_all(&dir);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

/// Proxmox's TPM state (swtpm's linear file) → libvirt's swtpm directory, with the plan's own
/// convert step: an NV index written through Proxmox-style swtpm reads back from the state an
/// swtpm started as libvirt starts it (`--tpmstate dir=<swtpm_storage_dir>/<uuid>/tpm2`).
#[test]
fn tpm_state_survives_the_conversion() {
    let tools = ["swtpm", "swtpm_setup", "swtpm_ioctl", "tpm2_nvdefine", "tpm2_nvwrite", "tpm2_nvread"];
    if !tools_or_skip("tpm_state_survives_the_conversion", &tools) {
        return;
    }
    let base = std::env::temp_dir().join(format!("pve2virt-plan-tpm-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let store = base.join("store");
    fs::create_dir_all(store.join("images/100")).unwrap();
    let linear = store.join("images/100/vm-100-disk-1.raw");
    let ok = |c: &mut Command| {
        let o = c.output().unwrap();
        assert!(o.status.success(), "{c:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    ok(Command::new("swtpm_setup")
        .args(["--tpm2", "--createek", "--overwrite", "--tpm-state"])
        .arg(format!("file://{}", linear.display())));
    let port = 30000 + (std::process::id() % 10000) as u16 * 2 % 10000;
    let swtpm = |state: String| {
        ok(Command::new("swtpm")
            .args(["socket", "--tpm2", "--tpmstate", &state, "--flags", "startup-clear", "--daemon"])
            .args(["--server", &format!("type=tcp,port={port}"), "--ctrl", &format!("type=tcp,port={}", port + 1)]));
        std::thread::sleep(std::time::Duration::from_millis(400));
    };
    let stop = || {
        let _ = Command::new("swtpm_ioctl").args(["--tcp", &format!("127.0.0.1:{}", port + 1), "-s"]).output();
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let tcti = format!("swtpm:port={port}");
    swtpm(format!("backend-uri=file://{}", linear.display()));
    let marker = base.join("nv.in");
    fs::write(&marker, "pve2virt-nv").unwrap();
    ok(Command::new("tpm2_nvdefine").env("TPM2TOOLS_TCTI", &tcti).args([
        "0x1500016",
        "-C",
        "o",
        "-s",
        "32",
        "-a",
        "ownerread|ownerwrite|authread|authwrite",
    ]));
    ok(Command::new("tpm2_nvwrite").env("TPM2TOOLS_TCTI", &tcti).args(["0x1500016", "-C", "o", "-i"]).arg(&marker));
    stop();
    let head = fs::read(&linear).unwrap();
    assert_eq!(&head[..8], b"nilmptws", "swtpm's linear file (magic 'swtpmlin' little-endian)");

    let cfg = format!("dir: store\n\tpath {}\n\tcontent images\n", store.display());
    let conf = "memory: 512\nname: tpm\nsmbios1: uuid=0e8b7d4c-1111-4222-8333-944455556666\n\
                tpmstate0: store:100/vm-100-disk-1.raw,size=4M,version=v2.0\n";
    let dir = tree("tpm", &cfg, conf);
    let swtpm_dir = base.join("swtpm");
    let r = plan(&dir, &["--json", "--swtpm-dir", &swtpm_dir.display().to_string()]);
    assert_eq!(r.exit, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let vol = &v["vms"][0]["volumes"][0];
    assert_eq!(vol["action"], "tpm-state");
    let state_dir = vol["target"]["state_dir"].as_str().unwrap().to_owned();
    assert_eq!(state_dir, swtpm_dir.join("0e8b7d4c-1111-4222-8333-944455556666/tpm2").display().to_string());
    // The copy the convert step starts from: the plan's copy target (migrate puts the copy there).
    let copy = PathBuf::from(vol["target"]["path"].as_str().unwrap());
    let copy = base.join(copy.file_name().unwrap());
    fs::copy(&linear, &copy).unwrap();
    let step = vol["steps"].as_array().unwrap().iter().find(|s| s["action"] == "convert-tpm").unwrap();
    let mut argv: Vec<String> =
        step["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
    argv[4] = copy.display().to_string();
    ok(Command::new(&argv[0]).args(&argv[1..]));
    assert!(Path::new(&state_dir).join("tpm2-00.permall").exists());

    swtpm(format!("dir={state_dir}"));
    let got = ok(Command::new("tpm2_nvread").env("TPM2TOOLS_TCTI", &tcti).args(["0x1500016", "-C", "o", "-s", "11"]));
    stop();
    assert_eq!(got, "pve2virt-nv", "the NV index written before the migration reads back after it");
    let _ = fs::remove_dir_all(&base);
    let _ = fs::remove_dir_all(&dir);
}

/// Debian's ovmf package: the 4 MiB varstore template an efidisk is cut from.
const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// `--snapshot NAME` copies the volumes as they were in that snapshot: for qcow2 files, the
/// internal snapshot (read through `qemu-nbd -l` for the verify and the efidisk cut), not the
/// current contents.
#[test]
fn a_snapshot_is_copied_as_it_was() {
    if !prerequisites_or_skip(
        "a_snapshot_is_copied_as_it_was",
        &["qemu-img", "qemu-io", "qemu-nbd", "virsh"],
        &[OVMF_VARS],
    ) {
        return;
    }
    let base = std::env::temp_dir().join(format!("pve2virt-plan-snap-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let images = base.join("store/images/100");
    fs::create_dir_all(&images).unwrap();
    let qemu = |args: &[&str]| {
        let o = Command::new(args[0]).args(&args[1..]).output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let disk = images.join("vm-100-disk-0.qcow2").display().to_string();
    let efi = images.join("vm-100-disk-1.qcow2").display().to_string();
    qemu(&["qemu-img", "create", "-q", "-f", "qcow2", &disk, "16M"]);
    qemu(&["qemu-img", "convert", "-f", "raw", "-O", "qcow2", OVMF_VARS, &efi]);
    qemu(&["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 1M", &disk]);
    qemu(&["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 4k", &efi]);
    for img in [&disk, &efi] {
        qemu(&["qemu-img", "snapshot", "-c", "before", img]);
    }
    qemu(&["qemu-io", "-f", "qcow2", "-c", "write -P 0x22 0 1M", &disk]);
    qemu(&["qemu-io", "-f", "qcow2", "-c", "write -P 0x22 0 4k", &efi]);
    let cfg = format!("dir: store\n\tpath {}\n\tcontent images\n", base.join("store").display());
    let conf = "bios: ovmf\nefidisk0: store:100/vm-100-disk-1.qcow2,efitype=4m,size=528K\nmemory: 512\nname: snap\n\
                parent: before\nscsi0: store:100/vm-100-disk-0.qcow2,size=16M\n\n[before]\nbios: ovmf\n\
                efidisk0: store:100/vm-100-disk-1.qcow2,efitype=4m,size=528K\nmemory: 512\nname: snap\n\
                scsi0: store:100/vm-100-disk-0.qcow2,size=16M\nsnaptime: 1737548747\n";
    let dir = tree("snap", &cfg, conf);
    let target = base.join("target");
    let args: Vec<String> = [
        "plan",
        "100",
        "--snapshot",
        "before",
        "--pve-root",
        &dir.join("pve").display().to_string(),
        "--target-dir",
        &target.display().to_string(),
        "--script",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = run(&dir, &args, None);
    assert_eq!(r.exit, 0, "{}", r.stderr);
    let script = base.join("plan.sh");
    fs::write(&script, &r.stdout).unwrap();
    for round in 0..2 {
        let out = Command::new("sh").arg(&script).env("LIBVIRT_DEFAULT_URI", "test:///default").output().unwrap();
        assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // What the snapshot held, read by qemu-img itself.
    let want = base.join("want.raw").display().to_string();
    qemu(&["qemu-img", "convert", "-l", "snapshot.name=before", "-f", "qcow2", "-O", "raw", &disk, &want]);
    let copy = target.join("100-scsi0.raw").display().to_string();
    qemu(&["qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", &want, &copy]);
    let vars = fs::read(target.join("100-efidisk0_VARS.fd")).unwrap();
    assert_eq!(vars.len(), 540_672);
    assert!(vars[..4096].iter().all(|&b| b == 0x11), "the efidisk as it was in the snapshot");

    // `migrate` does the same (qemu-nbd -l on this host); libvirt's test driver takes the domain.
    let target2 = base.join("target2");
    let args: Vec<String> = [
        "migrate",
        "100",
        "--snapshot",
        "before",
        "--pve-root",
        &dir.join("pve").display().to_string(),
        "--target-dir",
        &target2.display().to_string(),
        "--to",
        "test:///default",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = run(&dir, &args, None);
    assert_eq!(r.exit, 0, "{}", r.stderr);
    let copy = target2.join("100-scsi0.raw").display().to_string();
    qemu(&["qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", &want, &copy]);
    let vars2 = fs::read(target2.join("100-efidisk0_VARS.fd")).unwrap();
    assert_eq!(vars, vars2);
    let xml = fs::read_to_string(target2.join("100.xml")).unwrap();
    assert!(xml.contains(&copy), "the domain names the copy: {xml}");
    let _ = fs::remove_dir_all(&base);
    let _ = fs::remove_dir_all(&dir);
}
