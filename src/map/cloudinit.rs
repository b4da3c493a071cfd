//! `--regenerate-cloudinit DIR`: the cloud-init seed Proxmox builds at every start, rebuilt from
//! the config's ci* keys byte for byte as qemu-server's `PVE/QemuServer/Cloudinit.pm` writes it
//! (`cloudinit_userdata`, `nocloud_network`, `configdrive2_network`, the instance id
//! `sha1_hex(user-data . network-config)`), then made into an ISO with genisoimage as Proxmox does
//! (`commit_cloudinit_disk`). The guest sees the same instance id, so cloud-init does not run its
//! first-boot modules again.

use std::path::{Path, PathBuf};

use crate::map::Ctx;
use crate::pve::file::percent_decode;
use crate::pve::model::net::Net;
use crate::pve::schema::{CiType, IpConfigOpts};

/// A seed to write: the ISO's volume label, its files, and where the ISO goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub label: &'static str,
    /// Path inside the ISO (`/user-data`, `/openstack/latest/user_data`, …) → contents.
    pub files: Vec<(String, String)>,
    pub iso: PathBuf,
    /// `user-data` etc. came from the config without the host's resolv.conf, which Proxmox uses
    /// when `nameserver`/`searchdomain` are unset.
    pub dns_from_host: bool,
}

/// Proxmox's `get_cloudinit_format`: `citype`, else configdrive2 for Windows, else nocloud.
fn format(ctx: &Ctx) -> CiType {
    match ctx.vm.keys().citype() {
        Some(t) => t,
        None if ctx.vm.windows_version() > 0 => CiType::ConfigDrive2,
        None => CiType::NoCloud,
    }
}

fn hostname_fqdn(ctx: &Ctx) -> (String, String) {
    let name = ctx.vm.keys().name().map_or_else(|| format!("VM{}", ctx.vm.vmid), str::to_owned);
    if let Some((host, _)) = name.split_once('.') {
        (host.to_owned(), name.clone())
    } else if let Some(search) = ctx.vm.keys().searchdomain() {
        (name.clone(), format!("{name}.{search}"))
    } else {
        (name.clone(), name)
    }
}

/// `get_dns_conf`, without the Proxmox host's resolv.conf (not part of /etc/pve).
fn dns(ctx: &Ctx) -> (Vec<String>, Vec<String>) {
    let split = |v: Option<&str>| v.map(|s| s.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
    (split(ctx.vm.keys().searchdomain()), split(ctx.vm.keys().nameserver()))
}

pub fn userdata(ctx: &Ctx) -> String {
    let vm = ctx.vm;
    let (hostname, fqdn) = hostname_fqdn(ctx);
    let mut c = format!("#cloud-config\nhostname: {hostname}\nmanage_etc_hosts: true\nfqdn: {fqdn}\n");
    let user = vm.keys().ciuser();
    if let Some(u) = user {
        c.push_str(&format!("user: {u}\n"));
        if u == "root" {
            c.push_str("disable_root: False\n");
        }
    }
    if let Some(p) = vm.keys().cipassword() {
        c.push_str(&format!("password: {p}\n"));
    }
    if let Some(keys) = vm.keys().sshkeys() {
        let keys = percent_decode(keys);
        c.push_str("ssh_authorized_keys:\n");
        for k in keys.split('\n').filter(|k| k.chars().any(|c| !c.is_whitespace())) {
            c.push_str(&format!("  - {k}\n"));
        }
    }
    c.push_str("chpasswd:\n  expire: False\n");
    if user != Some("root") {
        c.push_str("users:\n  - default\n");
    }
    if vm.keys().ciupgrade() != Some(false) {
        c.push_str("package_upgrade: true\n");
    }
    c
}

/// The NICs with an `ipconfigN`, in Perl's `sort` order of `netN` (as strings: net10 < net2).
fn nics<'a>(ctx: &Ctx<'a>) -> Vec<(String, u16, Option<String>, IpConfigOpts<'a>)> {
    let vm = ctx.vm;
    let mut out: Vec<_> = vm
        .keys()
        .net()
        .filter_map(|(i, e)| {
            let ip = vm.keys().ipconfig().find(|(j, _)| *j == i).and_then(|(_, e)| IpConfigOpts::of(e))?;
            let mac = e.props().and_then(|p| Net::from_props(p).macaddr);
            Some((format!("net{i}"), i, mac, ip))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `split_ip4`: `10.0.0.5/24` → (`10.0.0.5`, `255.255.255.0`).
fn split_ip4(cidr: &str) -> Option<(String, String)> {
    let (addr, bits) = cidr.split_once('/')?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    Some((addr.to_owned(), std::net::Ipv4Addr::from(mask).to_string()))
}

pub fn nocloud_network(ctx: &Ctx) -> Result<String, String> {
    let mut c = String::from("version: 1\nconfig:\n");
    for (key, i, mac, ip) in nics(ctx) {
        let mac = mac.ok_or_else(|| format!("network interface '{key}' has no mac address"))?.to_ascii_lowercase();
        c.push_str(&format!("    - type: physical\n      name: eth{i}\n      mac_address: '{mac}'\n      subnets:\n"));
        let p = "      ";
        if let Some(v4) = ip.ip() {
            if v4 == "dhcp" {
                c.push_str(&format!("{p}- type: dhcp4\n"));
            } else {
                let (addr, mask) = split_ip4(v4).ok_or_else(|| format!("not a CIDR: {v4}"))?;
                c.push_str(&format!("{p}- type: static\n{p}  address: '{addr}'\n{p}  netmask: '{mask}'\n"));
                if let Some(gw) = ip.gw() {
                    c.push_str(&format!("{p}  gateway: '{gw}'\n"));
                }
            }
        }
        if let Some(v6) = ip.ip6() {
            match v6 {
                "dhcp" => c.push_str(&format!("{p}- type: dhcp6\n")),
                "auto" => c.push_str(&format!("{p}- type: ipv6_slaac\n")),
                _ => {
                    c.push_str(&format!("{p}- type: static6\n{p}  address: '{v6}'\n"));
                    if let Some(gw) = ip.gw6() {
                        c.push_str(&format!("{p}  gateway: '{gw}'\n"));
                    }
                }
            }
        }
    }
    // Proxmox always writes the nameserver entry (its lists are array references, always true).
    let (search, servers) = dns(ctx);
    c.push_str("    - type: nameserver\n");
    if !servers.is_empty() {
        c.push_str("      address:\n");
        for s in &servers {
            c.push_str(&format!("      - '{s}'\n"));
        }
    }
    if !search.is_empty() {
        c.push_str("      search:\n");
        for s in &search {
            c.push_str(&format!("      - '{s}'\n"));
        }
    }
    Ok(c)
}

pub fn configdrive2_network(ctx: &Ctx) -> Result<String, String> {
    let mut c = String::from("auto lo\niface lo inet loopback\n\n");
    let (search, servers) = dns(ctx);
    if !servers.is_empty() {
        c.push_str(&format!("        dns_nameservers {}\n", servers.join(" ")));
    }
    if !search.is_empty() {
        c.push_str(&format!("        dns_search {}\n", search.join(" ")));
    }
    for (_, i, _, ip) in nics(ctx) {
        let id = format!("eth{i}");
        c.push_str(&format!("auto {id}\n"));
        if let Some(v4) = ip.ip() {
            if v4 == "dhcp" {
                c.push_str(&format!("iface {id} inet dhcp\n"));
            } else {
                let (addr, mask) = split_ip4(v4).ok_or_else(|| format!("not a CIDR: {v4}"))?;
                c.push_str(&format!("iface {id} inet static\n        address {addr}\n        netmask {mask}\n"));
                if let Some(gw) = ip.gw() {
                    c.push_str(&format!("        gateway {gw}\n"));
                }
            }
        }
        if let Some(v6) = ip.ip6() {
            if v6 == "auto" || v6 == "dhcp" {
                c.push_str(&format!("iface {id} inet6 {v6}\n"));
            } else {
                let (addr, mask) = v6.split_once('/').unwrap_or((v6, ""));
                c.push_str(&format!("iface {id} inet6 static\n        address {addr}\n        netmask {mask}\n"));
                if let Some(gw) = ip.gw6() {
                    c.push_str(&format!("        gateway {gw}\n"));
                }
            }
        }
    }
    Ok(c)
}

fn cloudbase_network(ctx: &Ctx) -> Result<String, String> {
    let (_, servers) = dns(ctx);
    let servers = servers.join(" ");
    let mut c = String::new();
    for (_, i, _, ip) in nics(ctx) {
        let id = format!("eth{i}");
        c.push_str(&format!("auto {id}\n"));
        if let Some(v4) = ip.ip() {
            if v4 == "dhcp" {
                c.push_str(&format!("iface {id} inet dhcp\n"));
            } else {
                let (addr, mask) = split_ip4(v4).ok_or_else(|| format!("not a CIDR: {v4}"))?;
                c.push_str(&format!("iface {id} inet static\n        address {addr}\n        netmask {mask}\n"));
                if let Some(gw) = ip.gw() {
                    c.push_str(&format!("        gateway {gw}\n"));
                }
                if !servers.is_empty() {
                    c.push_str(&format!("        dns-nameservers {servers}\n"));
                }
            }
        }
        if let Some(v6) = ip.ip6() {
            if v6 == "auto" || v6 == "dhcp" {
                c.push_str(&format!("iface {id} inet6 {v6}\n"));
            } else {
                let (addr, mask) = v6.split_once('/').unwrap_or((v6, ""));
                c.push_str(&format!("iface {id} inet6 static\n        address {addr}\n        netmask {mask}\n"));
                if let Some(gw) = ip.gw6() {
                    c.push_str(&format!("        gateway {gw}\n"));
                }
                if !servers.is_empty() {
                    c.push_str(&format!("        dns-nameservers {servers}\n"));
                }
            }
        }
    }
    Ok(c)
}

/// Proxmox's `encode_json` of this hash has no fixed key order; the instance id does not depend
/// on it (it is computed from user and network data).
fn cloudbase_metadata(ctx: &Ctx, uuid: &str) -> String {
    let mut meta = serde_json::json!({ "uuid": uuid, "network_config": { "content_path": "/content/0000" } });
    if let Some(p) = ctx.vm.keys().cipassword().filter(|p| !p.is_empty()) {
        meta["admin_pass"] = p.into();
    }
    if let Some(keys) = ctx.vm.keys().sshkeys() {
        let keys = percent_decode(keys);
        let mut map = serde_json::Map::new();
        for (i, k) in keys.split('\n').filter(|k| k.chars().any(|c| !c.is_whitespace())).enumerate() {
            map.insert(format!("key-{i}"), k.into());
        }
        meta["public_keys"] = map.into();
    }
    meta.to_string()
}

/// A `cicustom` snippet (`user=local:snippets/x.yaml`): the storage's `path` + `snippets/x.yaml`,
/// or under `--map-storage`.
fn snippet(ctx: &Ctx, volid: &str) -> Result<String, String> {
    let (storage, name) = volid.split_once(':').ok_or_else(|| format!("'{volid}' is not a volume id"))?;
    let path = match ctx.opts.storage_map.get(storage) {
        Some(dir) => dir.join(name),
        None => ctx
            .opts
            .storage
            .get(storage)
            .and_then(|s| s.prop("path"))
            .map(|p| Path::new(p).join(name))
            .ok_or_else(|| format!("storage '{storage}' has no path"))?,
    };
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read the cicustom snippet {}: {e}", path.display()))
}

/// The `cicustom` snippets (`user=`, `network=`, `meta=`, `vendor=`): each one replaces the file
/// Proxmox would generate.
struct Custom {
    user: Option<String>,
    network: Option<String>,
    meta: Option<String>,
    vendor: Option<String>,
}

impl Custom {
    /// Read in the order user, network, meta, vendor, all before any file is generated: the
    /// first unreadable snippet is the one reported.
    fn read(ctx: &Ctx) -> Result<Self, String> {
        let custom = ctx.vm.keys().cicustom();
        let snippets = |v: Option<&str>| v.map(|v| snippet(ctx, v)).transpose();
        Ok(Custom {
            user: snippets(custom.and_then(|p| p.user()))?,
            network: snippets(custom.and_then(|p| p.network()))?,
            meta: snippets(custom.and_then(|p| p.meta()))?,
            vendor: snippets(custom.and_then(|p| p.vendor()))?,
        })
    }
}

/// An ISO's volume label and its files: the label is how cloud-init finds the seed.
type Layout = (&'static str, Vec<(String, String)>);

/// Builds the seed; `Err` says why it cannot be rebuilt as Proxmox would.
pub fn seed(ctx: &Ctx, dir: &Path) -> Result<Seed, String> {
    let fmt = format(ctx);
    let custom = Custom::read(ctx)?;
    let dns_from_host = ctx.vm.keys().nameserver().is_none() || ctx.vm.keys().searchdomain().is_none();
    let iso = std::path::absolute(dir.join(format!("{}-cloudinit.iso", ctx.vm.vmid))).map_err(|e| e.to_string())?;
    let user = match &custom.user {
        Some(u) => u.clone(),
        None => userdata(ctx),
    };
    let (label, files) = match fmt {
        CiType::NoCloud => nocloud(ctx, user, custom)?,
        CiType::ConfigDrive2 if ctx.vm.windows_version() == 0 => configdrive2(ctx, user, custom)?,
        CiType::ConfigDrive2 => cloudbase(ctx, user, custom)?,
        other @ CiType::OpenNebula => {
            return Err(format!(
                "the {} seed is not rebuilt by pve2virt (nocloud and configdrive2 are)",
                other.as_str()
            ))
        }
    };
    Ok(Seed { label, files, iso, dns_from_host })
}

/// NoCloud (`cidata`): the instance id in meta-data is what tells cloud-init it already ran.
fn nocloud(ctx: &Ctx, user: String, custom: Custom) -> Result<Layout, String> {
    let network = match custom.network {
        Some(n) => n,
        None => nocloud_network(ctx)?,
    };
    let meta = custom.meta.unwrap_or_else(|| format!("instance-id: {}\n", sha1_hex(&user, &network)));
    Ok((
        "cidata",
        vec![
            ("/user-data".to_owned(), user),
            ("/network-config".to_owned(), network),
            ("/meta-data".to_owned(), meta),
            ("/vendor-data".to_owned(), custom.vendor.unwrap_or_default()),
        ],
    ))
}

/// ConfigDrive2 for cloud-init: the instance id is the `uuid` of meta_data.json.
fn configdrive2(ctx: &Ctx, user: String, custom: Custom) -> Result<Layout, String> {
    let network = match custom.network {
        Some(n) => n,
        None => configdrive2_network(ctx)?,
    };
    let meta = custom.meta.unwrap_or_else(|| {
        format!(
            "{{\n     \"uuid\": \"{}\",\n     \"network_config\": {{ \"content_path\": \"/content/0000\" }}\n}}\n",
            sha1_hex(&user, &network)
        )
    });
    Ok(("config-2", openstack_files(user, network, meta, custom.vendor)))
}

/// cloudbase-init on Windows: ENI network data and a JSON meta_data with the
/// password and keys (Cloudinit.pm `cloudbase_network_eni`,
/// `cloudbase_configdrive2_metadata`).
fn cloudbase(ctx: &Ctx, user: String, custom: Custom) -> Result<Layout, String> {
    let network = match custom.network {
        Some(n) => n,
        None => cloudbase_network(ctx)?,
    };
    let meta = match custom.meta {
        Some(m) => m,
        None => cloudbase_metadata(ctx, &sha1_hex(&user, &network)),
    };
    Ok(("config-2", openstack_files(user, network, meta, custom.vendor)))
}

/// The OpenStack config-drive tree, which cloud-init and cloudbase-init both read.
fn openstack_files(user: String, network: String, meta: String, vendor: Option<String>) -> Vec<(String, String)> {
    vec![
        ("/openstack/latest/user_data".to_owned(), user),
        ("/openstack/content/0000".to_owned(), network),
        ("/openstack/latest/meta_data.json".to_owned(), meta),
        ("/openstack/latest/vendor_data.json".to_owned(), vendor.unwrap_or_default()),
    ]
}

fn sha1_hex(user: &str, network: &str) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(user.as_bytes());
    h.update(network.as_bytes());
    h.digest().to_string()
}

/// Writes the seed's files into a fresh folder and makes the ISO with genisoimage, as Proxmox:
/// `genisoimage -quiet -iso-level 3 -J -R -V <label> <folder>`. The ISO appears atomically.
pub fn write_iso(seed: &Seed, overwrite: bool) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    let dir = seed.iso.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    if seed.iso.exists() && !overwrite {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("{} exists; pass --force to overwrite it", seed.iso.display()),
        ));
    }
    let name = seed.iso.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let tree = dir.join(format!(".{name}.{}.d", std::process::id()));
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let _ = std::fs::remove_dir_all(&tree);
        for (path, contents) in &seed.files {
            let file = tree.join(path.trim_start_matches('/'));
            std::fs::create_dir_all(file.parent().unwrap_or(&tree))?;
            std::fs::write(file, contents)?;
        }
        let out = std::process::Command::new("genisoimage")
            .args(["-quiet", "-iso-level", "3", "-J", "-R", "-V", seed.label, "-o"])
            .arg(&tmp)
            .arg(&tree)
            .output()
            .map_err(|e| Error::new(e.kind(), format!("cannot run genisoimage (Debian package genisoimage): {e}")))?;
        if !out.status.success() {
            return Err(Error::other(format!("genisoimage: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        std::fs::rename(&tmp, &seed.iso)
    })();
    let _ = std::fs::remove_dir_all(&tree);
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_as_proxmox_reverse_mask() {
        assert_eq!(split_ip4("10.0.0.5/24"), Some(("10.0.0.5".into(), "255.255.255.0".into())));
        assert_eq!(split_ip4("10.0.0.5/0"), Some(("10.0.0.5".into(), "0.0.0.0".into())));
        assert_eq!(split_ip4("10.0.0.5/33"), None);
        assert_eq!(split_ip4("10.0.0.5"), None);
    }

    #[test]
    fn instance_id_is_sha1_of_user_and_network() {
        // sha1("ab") — the concatenation, as Perl's `$user . $network`.
        assert_eq!(sha1_hex("a", "b"), "da23614e02469a0d7c7bd1bdab5c9c474b1904dc");
    }
}
