#!/bin/bash
# test/kernels/fetch.sh CACHE SUITE: prints the directory where the newest amd64 kernel of Debian
# SUITE (bullseye, bookworm, trixie, sid...) is unpacked, fetching it first if it is not there.
# The packages are downloaded with `apt-get download` using the suite's own package lists, kept
# in CACHE/lists-SUITE (the machine's /etc/apt is not touched), unpacked with `dpkg-deb -x` and
# deleted: nothing is installed. Progress goes to stderr.
set -euo pipefail
cache=$1 suite=$2
mkdir -p "$cache"
cache=$(realpath "$cache")
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
uri=${uri:-http://deb.debian.org/debian}
echo "deb $uri $suite main" > "$cache/$suite.list"
apt=(-o "Dir::Etc::sourcelist=$cache/$suite.list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
     -o "Dir::State::Lists=$cache/lists-$suite" -o "Dir::Cache=$cache/apt-cache-$suite" -o APT::Sandbox::User=root)
mkdir -p "$cache/lists-$suite/partial" "$cache/apt-cache-$suite/archives/partial"
# The lists are refreshed once a day at most: a suite's kernel changes seldom, and an old list
# only fails when the mirror has dropped its packages (then the download below refreshes).
refresh() { apt-get update -qq "${apt[@]}" >&2; }
if [ -z "$(find "$cache/lists-$suite" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then refresh; fi

# linux-image-amd64 -> linux-image-X.Y.Z-N-amd64 (sid: a metapackage for linux-binary-* and linux-modules-*)
resolve() {
  local image
  image=$(apt-cache "${apt[@]}" depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -1)
  [ -n "$image" ] || { echo "fetch.sh: no linux-image-amd64 in $suite" >&2; return 1; }
  echo "$image"
  apt-cache "${apt[@]}" depends "$image" 2>/dev/null | sed -n 's/^ *Depends: \(linux-\(binary\|modules\)-[0-9][^ ]*\).*/\1/p'
}
packages=($(resolve)) || true
image=${packages[0]:-}
[ -n "$image" ] || { echo "fetch.sh: no kernel package found for $suite" >&2; exit 1; }
dir="$cache/$suite-${image#linux-image-}"
if [ ! -e "$dir/.complete" ]; then
  echo "fetch.sh: $suite: ${packages[*]}" >&2
  rm -rf "$dir" "$dir.debs"; mkdir -p "$dir.debs"
  (cd "$dir.debs" && apt-get download -qq "${apt[@]}" "${packages[@]}" >&2) ||
    { refresh; packages=($(resolve)); image=${packages[0]}; dir="$cache/$suite-${image#linux-image-}";
      rm -rf "$dir.debs"; mkdir -p "$dir.debs"; (cd "$dir.debs" && apt-get download -qq "${apt[@]}" "${packages[@]}" >&2); }
  mkdir -p "$dir"
  for deb in "$dir.debs"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
  rm -rf "$dir.debs"
  touch "$dir/.complete"
fi
echo "$dir"
