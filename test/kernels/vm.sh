#!/bin/bash
# test/kernels/vm.sh KERNEL_DIR -- COMMAND [ARG...]
#
# Boots the Linux kernel unpacked in KERNEL_DIR (Debian kernel packages extracted with
# `dpkg-deb -x`, never installed; test/kernels/run.js fetches them) in a QEMU guest whose root
# filesystem is this machine's / shared read-only over virtio-9p with a RAM overlay on top (the
# guest may write anywhere, the checkout included; nothing reaches the host), runs COMMAND there
# as root in the caller's directory, and powers the guest off. The command's output (stdout and
# stderr merged) comes on stdout; its exit status is this script's, or 125 when the guest gave
# none (boot failure, timeout, panic: the tail of the console goes to stderr).
#
# Environment:
#   PIDFDVM_ACCEL   QEMU accelerator (default tcg,thread=multi: software emulation. Use kvm on a
#                   host with real VT-x/SVM; the nested kvm-pvm of the project's CI machine cannot
#                   boot stock kernels, see docs/internals.md)
#   PIDFDVM_CPU     -cpu (default: host with kvm, max with tcg)
#   PIDFDVM_MEM=2G  PIDFDVM_SMP=2  PIDFDVM_TIMEOUT=600 (seconds, then the guest is killed)
#   PIDFDVM_LOG     where the whole console log goes (default: a temporary file)
#   PIDFDVM_QUIET=0 prints the whole console live (boot debugging)
#
# Per kernel, an initramfs (busybox-static and the virtio/9p/overlay modules with their
# dependencies, read from each module's .modinfo depends=, since the packages may lack
# modules.dep) and the uncompressed vmlinux (booted through its PVH entry, which skips the
# bzImage's real-mode setup and decompressor) are built once into KERNEL_DIR/.pidfdvm/.
set -euo pipefail

[ $# -ge 3 ] && [ "$2" = "--" ] || { echo "usage: $0 KERNEL_DIR -- COMMAND [ARG...]" >&2; exit 2; }
KDIR=$(realpath "$1"); shift 2
HERE=$(dirname "$(realpath "$0")")

MEM=${PIDFDVM_MEM:-2G}
SMP=${PIDFDVM_SMP:-2}
ACCEL=${PIDFDVM_ACCEL:-tcg,thread=multi}
if [ "${ACCEL%%,*}" = kvm ]; then CPU=${PIDFDVM_CPU:-host}; else CPU=${PIDFDVM_CPU:-max}; fi
TIMEOUT=${PIDFDVM_TIMEOUT:-600}
QUIET=${PIDFDVM_QUIET:-1}
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || { echo "vm.sh: need busybox-static at $BUSYBOX" >&2; exit 2; }

VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* "$KDIR"/usr/lib/modules/*/vmlinuz "$KDIR"/lib/modules/*/vmlinuz 2>/dev/null | head -1 || true)
MODDIR=$(ls -d "$KDIR"/lib/modules/*/ "$KDIR"/usr/lib/modules/*/ 2>/dev/null | head -1 || true)
[ -n "$VMLINUZ" ] && [ -n "$MODDIR" ] || { echo "vm.sh: no vmlinuz or modules/VERSION under $KDIR" >&2; exit 2; }
MODDIR=${MODDIR%/}
KVER=$(basename "$MODDIR")

# --- once per kernel: the initramfs and the vmlinux ------------------------------------------
CACHE=$KDIR/.pidfdvm
BASE=$CACHE/base.cpio
if [ ! -s "$BASE" ] || [ ! -s "$CACHE/vmlinux" ] || [ "$0" -nt "$BASE" ]; then
  rm -rf "$CACHE"; mkdir -p "$CACHE"
  T=$CACHE/root; mkdir -p "$T"/{bin,lib/pidfdvm,proc,sys,dev,lower,rw,newroot,pidfdvm}
  cp "$BUSYBOX" "$T/bin/busybox"; ln -s busybox "$T/bin/sh"
  find "$MODDIR" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' |
    while read -r f; do b=$(basename "$f"); b=${b%%.ko*}; echo "${b//-/_} $f"; done > "$CACHE/index"
  unpack() { case "$1" in *.xz) xz -dc "$1";; *.zst) zstd -qdc "$1";; *.gz) gzip -dc "$1";; *) cat "$1";; esac; }
  declare -A seen=()
  ORDER=()
  add() {  # dependencies first; a module without a .ko is built in
    local m=${1//-/_} f d
    [ -n "${seen[$m]:-}" ] && return 0; seen[$m]=1
    f=$(awk -v m="$m" '$1==m {print $2; exit}' "$CACHE/index")
    [ -n "$f" ] || return 0
    unpack "$f" > "$T/lib/pidfdvm/$m.ko"
    for d in $(tr '\0' '\n' < "$T/lib/pidfdvm/$m.ko" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '); do add "$d"; done
    ORDER+=("$m")
  }
  for m in virtio_pci 9pnet_virtio 9p overlay; do add "$m"; done
  printf '%s\n' "${ORDER[@]}" > "$T/lib/pidfdvm/order"
  cat > "$T/init" <<'INIT'
#!/bin/sh
# Stage 1, PID 1 of the initramfs: modules, the 9p root with a RAM overlay, switch_root.
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
die() { echo "pidfdvm: $*"; echo "===PIDFDVM-EXIT=125==="; echo o > /proc/sysrq-trigger; sleep 5; poweroff -f; }
while read -r m; do insmod /lib/pidfdvm/$m.ko || echo "pidfdvm: insmod $m failed"; done < /lib/pidfdvm/order
mount -t 9p -o ro,trans=virtio,version=9p2000.L,cache=loose,msize=512000 hostroot /lower || die "9p mount failed"
mount -t tmpfs -o mode=755 rw /rw && mkdir -p /rw/upper /rw/work &&
  mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || die "overlay failed"
mount -t tmpfs -o mode=755 run /newroot/run
mount --move /proc /newroot/proc; mount --move /sys /newroot/sys; mount --move /dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777 shm /newroot/dev/shm
mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup || mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
mkdir -p /newroot/run/pidfdvm
cp /bin/busybox /pidfdvm/cmd.sh /pidfdvm/stage2 /newroot/run/pidfdvm/
# switch_root, not chroot: in a chroot CLONE_NEWUSER fails.
exec switch_root /newroot /run/pidfdvm/busybox sh /run/pidfdvm/stage2
INIT
  cat > "$T/pidfdvm/stage2" <<'STAGE2'
# Stage 2, PID 1 on the new root (it reaps orphans): runs the command between markers.
bb=/run/pidfdvm/busybox
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb
$bb hostname pidfdvm
echo; echo "===PIDFDVM-BEGIN uptime=$($bb cut -d' ' -f1 /proc/uptime)==="
# In a session of its own, as a login would be: PID 1 and what it starts are in process group 0,
# and kill(-0) would be a signal to our own group.
$bb setsid /bin/bash /run/pidfdvm/cmd.sh </dev/null 2>&1
rc=$?
echo "===PIDFDVM-END uptime=$($bb cut -d' ' -f1 /proc/uptime)==="
echo "===PIDFDVM-EXIT=$rc==="
$bb sync
echo o > /proc/sysrq-trigger
$bb sleep 5; $bb poweroff -f
STAGE2
  chmod +x "$T/init"
  (cd "$T" && find . | cpio -o -H newc -R 0:0 --quiet) > "$BASE.tmp"
  node "$HERE/extract-vmlinux.js" "$VMLINUZ" "$CACHE/vmlinux"
  mv "$BASE.tmp" "$BASE"
fi

# --- per run: the command, appended as a second cpio archive ----------------------------------
WORK=$(mktemp -d /tmp/pidfdvm.XXXXXX)
LOG=${PIDFDVM_LOG:-$WORK/console.log}
QPID=
KEEP=0
cleanup() {
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID" 2>/dev/null || true; fi
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/r/pidfdvm"
{
  echo "cd $(printf %q "$PWD") 2>/dev/null || cd /"
  printf '%q ' "$@"; echo
} > "$WORK/r/pidfdvm/cmd.sh"
(cd "$WORK/r" && find pidfdvm | cpio -o -H newc -R 0:0 --quiet) > "$WORK/run.cpio"
cat "$BASE" "$WORK/run.cpio" > "$WORK/initrd.cpio"

APPEND="console=ttyS0 panic=-1 rdinit=/init"
[ "$QUIET" = 1 ] && APPEND="$APPEND quiet loglevel=3"

T0=$EPOCHREALTIME
coproc QEMU { exec timeout -s KILL "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -m "$MEM" -smp "$SMP" \
  -nographic -no-reboot -nodefaults -serial stdio \
  -kernel "$CACHE/vmlinux" -initrd "$WORK/initrd.cpio" -append "$APPEND" \
  -fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=r,mount_tag=hostroot </dev/null 2>&1; }
QPID=$QEMU_PID
RC=125 INSIDE=0 TB= TE=
: > "$LOG"
while IFS= read -r line <&"${QEMU[0]}"; do
  line=${line%$'\r'}
  printf '%s\n' "$line" >> "$LOG"
  case "$line" in
    *"===PIDFDVM-BEGIN uptime="*) TB=$EPOCHREALTIME; INSIDE=1; continue;;
    *"===PIDFDVM-END uptime="*) TE=$EPOCHREALTIME; INSIDE=0; continue;;
    *"===PIDFDVM-EXIT="*) RC=${line#*===PIDFDVM-EXIT=}; RC=${RC%===}; continue;;
  esac
  if [ "$QUIET" != 1 ] || [ "$INSIDE" = 1 ]; then printf '%s\n' "$line"; fi
done
wait "$QPID" 2>/dev/null || true
QPID=
T1=$EPOCHREALTIME
if [ -n "$TB" ] && [ -n "$TE" ]; then
  awk -v k="$KVER" -v t0="$T0" -v tb="$TB" -v te="$TE" -v t1="$T1" -v rc="$RC" 'BEGIN {
    printf "vm.sh: kernel %s: boot %.1f s, command %.1f s, total %.1f s, exit %s\n", k, tb - t0, te - tb, t1 - t0, rc }' >&2
else
  echo "vm.sh: kernel $KVER: the guest gave no exit status (timeout ${TIMEOUT} s, panic or boot failure); last console lines ($LOG):" >&2
  tail -n 40 "$LOG" >&2
  KEEP=1
  RC=125
fi
exit "$RC"
