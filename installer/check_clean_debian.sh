#!/usr/bin/env bash
# Install the .deb on a fresh, minimal Debian 12 (a debootstrap chroot: no Python, no Qt, no X)
# and run `motorchart --self-test` there, offscreen and on X11 (Xvfb), and `screenshots --demo`.
# Root only; the first run downloads the base system (~3 min), later runs reuse a pristine copy.
#
#   sudo installer/check_clean_debian.sh [dist/motorchart_<version>_amd64.deb] [CACHE_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEB="$(realpath "${1:-$(ls -t "$ROOT"/dist/motorchart_*.deb | head -1)}")"
CACHE="${2:-/var/tmp/motorchart-debian12}"
[[ $EUID -eq 0 ]] || { echo "check_clean_debian.sh: run as root (debootstrap, chroot, mounts)" >&2; exit 1; }
[[ -f "$DEB" ]] || { echo "check_clean_debian.sh: no .deb at $DEB (run installer/build.sh)" >&2; exit 1; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null

if [[ ! -d "$CACHE/base" ]]; then
  echo "==> debootstrap --variant=minbase bookworm into $CACHE/base (once)"
  mkdir -p "$CACHE"
  debootstrap --variant=minbase bookworm "$CACHE/base.partial" http://deb.debian.org/debian >/dev/null
  mv "$CACHE/base.partial" "$CACHE/base"
fi
C="$CACHE/run"
rm -rf "$C" && cp -a "$CACHE/base" "$C"
cp /etc/resolv.conf "$C/etc/resolv.conf"
cp "$DEB" "$C/tmp/"
cat > "$C/tmp/check.sh" <<SCRIPT
set -e
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/tmp
cd /tmp
echo "==> python3 before install: \$(command -v python3 || echo none)"
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends ./$(basename "$DEB") >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }
echo "==> installed $(basename "$DEB") with \$(grep -c '^Setting up' /tmp/apt.log) packages; python3: \$(command -v python3 || echo none)"
motorchart --version
motorchart --self-test 2>/dev/null
motorchart screenshots /tmp/shots --demo >/dev/null 2>&1
echo "==> screenshots --demo: \$(ls /tmp/shots/*.png | wc -l) PNG files"
test "\$(ls /tmp/shots/*.png | wc -l)" -ge 9
echo "==> on X11 (Xvfb)"
apt-get install -y -q --no-install-recommends xvfb xauth >/tmp/apt2.log 2>&1 || { tail -20 /tmp/apt2.log; exit 1; }
QT_QPA_PLATFORM=xcb xvfb-run -a motorchart --self-test 2>/dev/null
apt-get remove -y -q motorchart >/dev/null
test ! -e /usr/bin/motorchart && test ! -e /opt/motorchart && echo "==> removed cleanly"
SCRIPT
unshare --mount sh -c "mount -t proc proc '$C/proc' && mount --rbind /dev '$C/dev' && chroot '$C' sh /tmp/check.sh"
rm -rf "$C"
echo "==> clean Debian 12: OK"
