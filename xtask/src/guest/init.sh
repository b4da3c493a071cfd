#!/bin/sh
# /init of the guest initramfs (built by `cargo xtask guest`).
# Reports what the guest sees as `FACT key=value` lines on the serial console, optionally
# measures how fast /dev/hwrng delivers, prints DONE and powers off. facts.rs parses this output:
# keep the two in step.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fact() { echo "FACT $1=$2"; }
hex() { od -A n -v -t x1 "$1" 2>/dev/null | tr -d ' \n'; }

# Kernel parameter pve2virt.entropy=SECONDS: the measuring window (0 or absent: no measurement).
window=0
# pve2virt.nvread=INDEX:SIZE (hex index, decimal size): read that TPM NV index (`pve2virt migrate`'s test).
nvread=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	pve2virt.entropy=*) window="${arg#*=}" ;;
	pve2virt.nvread=*) nvread="${arg#*=}" ;;
	esac
done

# load-order lists dependencies first (computed from modules.dep at build time).
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null || fact insmod.failed "$m"
done < /lib/modules/load-order

# SCSI and ATA scans finish asynchronously after insmod returns: wait (at most ~10 s) until the
# set of block and net devices stops changing for a second.
last=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
	now="$(ls /sys/block /sys/class/net)"
	[ "$now" = "$last" ] && break
	last="$now"
	sleep 1
done

fact uuid "$(cat /sys/class/dmi/id/product_uuid 2>/dev/null)"
fact cpus.online "$(cat /sys/devices/system/cpu/online)"
# Top-level "System RAM" ranges of the physical map: what the firmware handed to the kernel,
# before the kernel's own reservations (MemTotal is reported too, for the table).
grep '^[0-9a-f].* : System RAM$' /proc/iomem | while read -r range _; do
	fact mem.ram "$range"
done
fact mem.total_kb "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"

for n in /sys/class/net/*; do
	name="${n##*/}"
	[ -e "$n/device" ] || continue # lo, and anything else without a device behind it
	fact "net.$name.mac" "$(cat "$n/address")"
	fact "net.$name.path" "$(readlink -f "$n/device")"
done

for b in /sys/block/*; do
	[ -e "$b" ] || continue # no block devices at all: the glob stayed literal
	name="${b##*/}"
	case "$name" in loop* | ram* | zram*) continue ;; esac
	dev="$(readlink -f "$b/device")"
	fact "disk.$name.path" "$dev"
	# The driver of the PCI function the disk hangs off tells the bus apart (ahci vs ata_piix
	# vs sym53c8xx …); virtio-blk and virtio-scsi both show virtio-pci, the path tells those.
	p="$dev"
	while [ "${#p}" -gt 12 ]; do
		case "${p##*/}" in ????:??:??.?) break ;; esac
		p="${p%/*}"
	done
	fact "disk.$name.driver" "$(basename "$(readlink "$p/driver")")"
	[ -r "$b/device/type" ] && fact "disk.$name.scsi_type" "$(cat "$b/device/type")"
	[ -r "$b/serial" ] && fact "disk.$name.serial" "$(cat "$b/serial")"
	[ -r "$b/device/vpd_pg80" ] && fact "disk.$name.vpd80" "$(hex "$b/device/vpd_pg80")"
	[ -r "$b/device/vpd_pg83" ] && fact "disk.$name.vpd83" "$(hex "$b/device/vpd_pg83")"
	# The first bytes of the medium (markers written before a migration).
	[ -b "/dev/$name" ] && fact "disk.$name.head" "$(dd if="/dev/$name" bs=16 count=1 2>/dev/null | od -A n -v -t x1 | tr -d ' \n')"
done

hw=/sys/class/misc/hw_random
fact rng.available "$(cat $hw/rng_available 2>/dev/null)"
fact rng.current "$(cat $hw/rng_current 2>/dev/null)"
fact tpm "$(ls /sys/class/tpm 2>/dev/null | tr '\n' ' ')"

# TPM2_NV_Read(auth owner, INDEX, SIZE bytes at offset 0) with an empty password session (TPM 2.0
# Library Part 3 "NV_Read"), written raw to /dev/tpm0: the guest needs no TPM tools.
byte() { printf "\\$(printf '%03o' "$1")"; }
if [ -n "$nvread" ] && [ -c /dev/tpm0 ]; then
	idx=$((${nvread%%:*})) size=${nvread#*:}
	{
		byte 0x80; byte 0x02; byte 0; byte 0; byte 0; byte 35; byte 0; byte 0; byte 0x01; byte 0x4e
		byte 0x40; byte 0; byte 0; byte 0x01
		byte $(((idx >> 24) & 255)); byte $(((idx >> 16) & 255)); byte $(((idx >> 8) & 255)); byte $((idx & 255))
		byte 0; byte 0; byte 0; byte 9; byte 0x40; byte 0; byte 0; byte 9; byte 0; byte 0; byte 0; byte 0; byte 0
		byte $(((size >> 8) & 255)); byte $((size & 255)); byte 0; byte 0
	} > /tmp/nvread.cmd
	exec 3<>/dev/tpm0
	cat /tmp/nvread.cmd >&3
	fact tpm.nvread "$(dd bs=4096 count=1 <&3 2>/dev/null | od -A n -v -t x1 | tr -d ' \n')"
	exec 3>&-
fi
[ -d /sys/firmware/efi ] && fact efi yes

if [ "$window" -gt 0 ]; then
	# A TPM registers a hwrng of its own: make sure the virtio one is what /dev/hwrng reads.
	for r in $(cat $hw/rng_available 2>/dev/null); do
		case "$r" in virtio_rng*) echo "$r" > $hw/rng_current ;; esac
	done
	fact entropy.current "$(cat $hw/rng_current 2>/dev/null)"
	fact entropy.window_ms "$((window * 1000))"
	# Small reads: a read() cut short by the kill loses what it had gathered (busybox cat would
	# ask for everything at once), so at most one 64-byte block goes uncounted.
	fact entropy.bytes "$(timeout -s KILL "$window" dd if=/dev/hwrng bs=64 2>/dev/null | wc -c)"
fi

echo DONE
sync
poweroff -f
