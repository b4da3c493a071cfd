//! Proxmox's TPM state → libvirt's.
//!
//! Proxmox runs `swtpm socket --tpmstate backend-uri=file://<volume>` (QemuServer.pm
//! `start_swtpm`): swtpm's *linear file* backend (swtpm `src/swtpm/swtpm_nvstore_linear.c`, a
//! header with magic `swtpmlin`, then the state blobs). libvirt 9.0 only knows swtpm's *directory*
//! backend: `<swtpm_storage_dir>/<uuid>/tpm2/tpm2-00.permall` (libvirt `src/qemu/qemu_tpm.c`
//! `qemuTPMEmulatorStorageBuildPath`), runs `swtpm_setup` (fresh state) only when that directory
//! does not exist yet, and chowns what is in it to its swtpm user (`qemuTPMEmulatorCreateStorage`,
//! `virFileChownFiles`). A state *file* for the emulator backend (`<source type='file'>`) is newer
//! libvirt only; the directory form works on every version, so it is what this writes.
//!
//! The conversion uses swtpm's own control channel, no hand-written format code: an swtpm on
//! (a scratch copy of) the linear file gives its permanent state blob (`swtpm_ioctl --save
//! permanent`, the CMD_GET_STATEBLOB ioctl); an swtpm on an empty directory takes it
//! (`--load permanent`) and writes `tpm2-00.permall` when initialised (`-i`). The directory is
//! built under a `.part` name and renamed, so an interrupted run leaves no state under the final
//! name.

/// `sh -c CONVERT_SCRIPT pve2virt-tpm <linear-state-file> <state-dir> <--tpm2|--tpm1.2>`.
pub const CONVERT_SCRIPT: &str = r#"set -eu
src=$1 dir=$2 ver=$3
[ "$ver" = --tpm1.2 ] && ver=""
tmp=$(mktemp -d)
trap 'for p in "$tmp"/*.pid; do [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$tmp"' EXIT
cp -- "$src" "$tmp/linear"
wait_sock() { i=0; while [ ! -S "$1" ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "swtpm did not start" >&2; exit 1; }; sleep 0.05; done; }
swtpm socket $ver --tpmstate "backend-uri=file://$tmp/linear" --ctrl "type=unixio,path=$tmp/a.sock" --pid "file=$tmp/a.pid" --daemon
wait_sock "$tmp/a.sock"
swtpm_ioctl --unix "$tmp/a.sock" -i
swtpm_ioctl --unix "$tmp/a.sock" --save permanent "$tmp/permanent.blob"
swtpm_ioctl --unix "$tmp/a.sock" -s
[ -s "$tmp/permanent.blob" ] || { echo "no TPM state in $src" >&2; exit 1; }
rm -rf -- "$dir.part"
mkdir -p -- "$dir.part"
swtpm socket $ver --tpmstate "dir=$dir.part" --ctrl "type=unixio,path=$tmp/b.sock" --pid "file=$tmp/b.pid" --daemon
wait_sock "$tmp/b.sock"
swtpm_ioctl --unix "$tmp/b.sock" --load permanent "$tmp/permanent.blob"
swtpm_ioctl --unix "$tmp/b.sock" -i
swtpm_ioctl --unix "$tmp/b.sock" -s
i=0; while [ -e "$tmp/b.pid" ] && kill -0 "$(cat "$tmp/b.pid")" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || break; sleep 0.05; done
rm -f -- "$dir.part/.lock"
ls -- "$dir.part"/*.permall >/dev/null
mv -- "$dir.part" "$dir"
"#;
