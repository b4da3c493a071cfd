#!/bin/sh
# Seeds fuzz/corpus/ (git-ignored) at run time: the project's fixtures and Proxmox's own test
# configs. The Proxmox files are AGPL: they are copied here to run, never committed.
set -eu
cd "$(dirname "$0")"
# PVE_CORPUS: a folder laid out like qemu-server's src/test/ (cfg2cmd/, parse-config-input/ or
# parse-config/, and optionally a storage.cfg), e.g. a clone's src/test. Unset: fixtures only.
shared=${PVE_CORPUS:-}
[ -n "$shared" ] || echo "PVE_CORPUS is not set: seeding from the project's fixtures only"
mkdir -p corpus/convert corpus/storage_cfg
find ../fixtures -name '*.conf' | while read -r f; do
    cp "$f" "corpus/convert/fixture-$(echo "$f" | sed 's|^\.\./fixtures/||; s|/|__|g')"
done
if [ -n "$shared" ] && [ -d "$shared" ]; then
    for f in "$shared"/cfg2cmd/*.conf "$shared"/parse-config/*/*.conf "$shared"/parse-config-input/*.conf; do
        [ -f "$f" ] && cp "$f" "corpus/convert/pve-$(basename "$(dirname "$f")")-$(basename "$f")"
    done
    [ -f "$shared/storage.cfg" ] && cp "$shared/storage.cfg" corpus/storage_cfg/pve-storage.cfg
fi
find ../fixtures -name '*storage*.cfg' -exec cp {} corpus/storage_cfg/ \; 2>/dev/null || true
# A fresh install's layout and one of each common type, written for this project.
cat > corpus/storage_cfg/fresh-install.cfg <<'CFG'
dir: local
	path /var/lib/vz
	content iso,vztmpl,backup

lvmthin: local-lvm
	thinpool data
	vgname pve
	content rootdir,images
CFG
cat > corpus/storage_cfg/many-types.cfg <<'CFG'
zfspool: tank
	pool tank/vm
	content images,rootdir
	sparse 1

nfs: nas
	server 192.0.2.10
	export /export/pve
	path /mnt/pve/nas
	content images,iso
	options vers=4.2

rbd: ceph
	pool rbd
	monhost 192.0.2.1 192.0.2.2
	content images
	krbd 0
	username admin

iscsi: san
	portal 192.0.2.20
	target iqn.2003-01.org.example:storage
	content none
CFG
echo "convert: $(ls corpus/convert | wc -l) seeds; storage_cfg: $(ls corpus/storage_cfg | wc -l) seeds"
