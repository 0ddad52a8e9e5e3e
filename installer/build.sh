#!/usr/bin/env bash
# Build Motorchart for Linux: the one-folder bundle dist/motorchart/ and the Debian package
# dist/motorchart_<version>_<arch>.deb (files in /opt/motorchart, /usr/bin/motorchart, desktop
# entry, icons, declared dependencies).
#
#   installer/build.sh              # bundle + .deb
#   installer/build.sh --bundle     # bundle only
#   installer/build.sh --from-git   # build what HEAD has committed, not the working tree (releases)
#   PYTHON=/path/to/python installer/build.sh
#   MOTORCHART_DIST=/tmp/out MOTORCHART_BUILD=/tmp/work installer/build.sh   # elsewhere than dist/, build/
#
# Needs the app's Python environment (pip install -e .), PyInstaller (installed with pip if
# missing), binutils' objdump and dpkg-deb (installed with apt-get when run as root). Every step
# says what it does; any failure stops the script with a message naming what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
DIST="${MOTORCHART_DIST:-$ROOT/dist}"
WORK="${MOTORCHART_BUILD:-$ROOT/build}"
MAKE_DEB=1
FROM_GIT=0
for arg in "$@"; do
  case "$arg" in
    --bundle) MAKE_DEB=0 ;;
    --from-git) FROM_GIT=1 ;;
    *) printf 'usage: installer/build.sh [--bundle] [--from-git]\n' >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

apt_install() {  # apt_install WHY PACKAGE...
  local why="$1"; shift
  if [[ $EUID -ne 0 ]]; then
    die "$why: install $* (sudo apt-get install $*) and run this script again"
  fi
  say "installing $* with apt-get ($why)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; } \
    || die "apt-get could not install $*"
}

# ---------------------------------------------------------------------------------- checks
say "checking the build tools"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON=/path/to/python3.11+)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); Motorchart needs Python 3.11 or newer"
"$PYTHON" -c 'import domain, desktop.cli, PySide6.QtWidgets, reportlab, sqlite_utils, pydantic, platformdirs' 2>/dev/null \
  || die "the app's packages are not importable with $PYTHON: run  $PYTHON -m pip install -e .  first"
if ! "$PYTHON" -c 'import PyInstaller' 2>/dev/null; then
  say "PyInstaller is missing: installing it with pip"
  "$PYTHON" -m pip install -q "pyinstaller>=6.10" 2>&1 | grep -v 'is ignored' || true
  "$PYTHON" -c 'import PyInstaller' 2>/dev/null || die "pip could not install PyInstaller"
fi
command -v objdump >/dev/null || apt_install "PyInstaller needs objdump" binutils
# Qt's xcb platform plugin links these; when they are on the build machine PyInstaller bundles
# them, so the one-folder bundle also runs where they are missing (the .deb depends on them too).
missing_libs=()
for pkg in libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 \
           libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_libs+=("$pkg")
done
if ((${#missing_libs[@]})); then
  if [[ $EUID -eq 0 ]]; then
    apt_install "Qt's xcb plugin links them; bundling makes the folder self-contained" "${missing_libs[@]}"
  else
    say "warning: ${missing_libs[*]} not installed: the bundle will rely on the system's copies"
  fi
fi
if ((MAKE_DEB)); then
  command -v dpkg-deb >/dev/null || die "dpkg-deb not found: the .deb can only be built on Debian/Ubuntu (use --bundle elsewhere)"
fi

SRC="$ROOT"
if ((FROM_GIT)); then
  SRC="$WORK/src"
  say "exporting HEAD ($(git -C "$ROOT" rev-parse --short HEAD)) to ${SRC} (uncommitted changes are left out)"
  rm -rf "$SRC" && mkdir -p "$SRC"
  git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$SRC"
fi

VERSION="$(cd "$SRC" && "$PYTHON" -c 'from domain import __version__; print(__version__)')"
say "Motorchart $VERSION with $("$PYTHON" -V 2>&1), PyInstaller $("$PYTHON" -c 'import PyInstaller; print(PyInstaller.__version__)')"

# ---------------------------------------------------------------------------------- bundle
say "building the one-folder bundle (PyInstaller) into dist/motorchart/"
t0=$(date +%s)
rm -rf "$DIST/motorchart"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK/pyinstaller" "$SRC/installer/motorchart.spec" 2>&1 \
  | grep -v -E "is ignored|required via ctypes not found|libgtk-3|libgdk-3|f2py|Failed to collect submodules for 'pyqtgraph.opengl'" || true
[[ -x "$DIST/motorchart/motorchart" ]] || die "PyInstaller did not produce dist/motorchart/motorchart"
if ((FROM_GIT)) && grep -q "'$ROOT/desktop/" "$WORK/pyinstaller/motorchart/PYZ-00.toc"; then
  die "the bundle took modules from the working tree instead of the HEAD export"
fi
got="$(cd /tmp && "$DIST/motorchart/motorchart" --version)"
[[ "$got" == "motorchart $VERSION" ]] || die "the bundle says '$got', expected 'motorchart $VERSION'"
say "bundle ready in $(( $(date +%s) - t0 )) s: dist/motorchart/ ($(du -sh "$DIST/motorchart" | cut -f1))"

((MAKE_DEB)) || exit 0

# ---------------------------------------------------------------------------------- .deb
ARCH="$(dpkg --print-architecture)"
DEB="$DIST/motorchart_${VERSION}_${ARCH}.deb"
STAGE="$WORK/deb/motorchart_${VERSION}_${ARCH}"
say "staging the Debian package in ${STAGE#"$ROOT"/}"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/icons/hicolor/scalable/apps" "$STAGE/usr/share/icons/hicolor/48x48/apps" \
  "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/doc/motorchart"
cp -a "$DIST/motorchart" "$STAGE/opt/motorchart"
# PyInstaller's bootloader finds _internal/ through /proc/self/exe, so a symlink on the PATH works.
ln -s /opt/motorchart/motorchart "$STAGE/usr/bin/motorchart"
install -m 644 "$SRC/installer/motorchart.desktop" "$STAGE/usr/share/applications/motorchart.desktop"
install -m 644 "$SRC/resources/icons/motorchart.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/motorchart.svg"
install -m 644 "$SRC/resources/icons/motorchart-48.png" "$STAGE/usr/share/icons/hicolor/48x48/apps/motorchart.png"
install -m 644 "$SRC/resources/icons/motorchart-256.png" "$STAGE/usr/share/icons/hicolor/256x256/apps/motorchart.png"
install -m 644 "$SRC/installer/copyright" "$STAGE/usr/share/doc/motorchart/copyright"
chmod -R u+rwX,go+rX,go-w "$STAGE"

# The newest glibc symbol version any bundled binary uses (they come from the build machine).
GLIBC_MIN="$(find "$STAGE/opt/motorchart" -type f \( -name '*.so*' -o -name motorchart \) -print0 \
  | xargs -0 -n 50 objdump -T 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1 | sed 's/GLIBC_//')"
GLIBC_MIN="${GLIBC_MIN:-2.34}"
# What Qt needs from the system: OpenGL/EGL, X11 through xcb (and its helper libraries, in case the
# build machine did not have them to bundle), fontconfig's configuration and a font.
DEPENDS="libc6 (>= $GLIBC_MIN), libgl1, libegl1, libxcb1, fontconfig-config, libfontconfig1, libglib2.0-0, libdbus-1-3, libx11-6, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-xfixes0, libxcb-xkb1"
RECOMMENDS="libwayland-client0, libwayland-cursor0, libwayland-egl1"
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<EOF
Package: motorchart
Version: $VERSION
Architecture: $ARCH
Maintainer: Motorchart developers <motorchart@example.org>
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Recommends: $RECOMMENDS
Section: science
Priority: optional
Homepage: https://example.org/motorchart
Description: offline charting for motor neuron disease
 Per-muscle examination, UMN/LMN classification, El Escorial, Awaji and Gold
 Coast criteria, staging, scores and PDF reports, in a local chart file.
 .
 Self-contained: Python and Qt are bundled in /opt/motorchart. Check an
 installation with: motorchart --self-test
EOF

say "packing ${DEB#"$ROOT"/} (dpkg-deb, zstd)"
t0=$(date +%s)
rm -f "$DEB"
dpkg-deb --root-owner-group -Zzstd --build "$STAGE" "$DEB" >/dev/null
say "package ready in $(( $(date +%s) - t0 )) s: ${DEB#"$ROOT"/} ($(du -h "$DEB" | cut -f1)), Depends: libc6 (>= $GLIBC_MIN), ..."
say "install it with:  sudo apt-get install ./${DEB#"$ROOT"/}   then check with:  motorchart --self-test"
