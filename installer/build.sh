#!/usr/bin/env bash
# Build Motorchart for Linux: the one-folder bundle dist/motorchart/ and the Debian package
# dist/motorchart_<version>_<arch>.deb (files in /opt/motorchart, /usr/bin/motorchart, desktop
# entry, icons, man page, changelog, copyright, declared dependencies).
#
#   installer/build.sh              # bundle + .deb
#   installer/build.sh --bundle     # bundle only
#   installer/build.sh --from-git   # build what HEAD has committed, not the working tree (releases)
#   PYTHON=/path/to/python3.11 installer/build.sh      # another base interpreter (default: Debian's)
#   MOTORCHART_DIST=/tmp/out MOTORCHART_BUILD=/tmp/work installer/build.sh   # elsewhere than dist/, build/
#   MOTORCHART_DEB_LEVEL=6 installer/build.sh        # smaller .deb, slower (MOTORCHART_DEB_COMPRESSION=zstd: fast)
#
# Reproducible input: PyInstaller runs in a virtual environment made from Debian 12's own
# python3.11 that holds exactly installer/requirements-release.txt (the runtime dependencies and
# the build tools, pinned; never the [test] extras) and nothing else: the environment is checked
# with `pip check` and `pip freeze` before every build and made anew when it differs. The app's
# own code comes from the source tree (or the HEAD export with --from-git).
#
# Needs, installed with apt-get when run as root (else the script names them): python3.11-venv and
# libpython3.11 (Debian's interpreter), binutils (objdump, strip), patchelf, dpkg-deb. Every step
# says what it does; any failure stops the script with a message naming what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIST="${MOTORCHART_DIST:-$ROOT/dist}"
WORK="${MOTORCHART_BUILD:-$ROOT/build}"
LOCK="$ROOT/installer/requirements-release.txt"
MAINTAINER="Motorchart maintainers <maintainers@motorchart.org>"
HOMEPAGE="https://motorchart.org"
# xz, not zstd: Debian 12's dpkg reads zstd, but lintian reports a zstd member as an error
# (malformed-deb-archive: Debian's archive accepts gz and xz only). Measured on 2 shared cores for
# the 183 MiB bundle: zstd 1 s, 68 MiB; xz -3 38 s, 56 MiB; xz -6 (dpkg's default) 109 s, 52 MiB.
DEB_COMPRESSION="${MOTORCHART_DEB_COMPRESSION:-xz}"
DEB_LEVEL="${MOTORCHART_DEB_LEVEL:-3}"
MAKE_DEB=1
FROM_GIT=0
for arg in "$@"; do
  case "$arg" in
    --bundle) MAKE_DEB=0 ;;
    --from-git) FROM_GIT=1 ;;
    *) printf 'usage: installer/build.sh [--bundle] [--from-git]\n' >&2; exit 2 ;;
  esac
done
T_START=$(date +%s)

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

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
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# ---------------------------------------------------------------------------------- checks
say "checking the build tools"
if [[ -z "${PYTHON:-}" ]]; then
  # Debian's own interpreter: its libpython and lib-dynload carry no RUNPATH and no path of the
  # build machine's home (a pyenv or self-built Python would need patchelf for the RUNPATH and
  # still leave its prefix in libpython's strings).
  PYTHON=/usr/bin/python3.11
  if [[ -x /usr/bin/dpkg-query ]]; then
    missing=()
    for pkg in python3.11 python3.11-venv libpython3.11; do installed "$pkg" || missing+=("$pkg"); done
    ((${#missing[@]} == 0)) || apt_install "the build uses Debian's python3.11 and its shared libpython" "${missing[@]}"
  fi
fi
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set PYTHON=/path/to/python3.11+)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); Motorchart needs Python 3.11 or newer"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || die "$PYTHON cannot make virtual environments (Debian: apt-get install python3.11-venv)"
command -v objdump >/dev/null && command -v strip >/dev/null || apt_install "PyInstaller needs objdump; the build strips libraries" binutils
command -v patchelf >/dev/null || apt_install "the build removes the build machine's RUNPATH from the bundle" patchelf
# Qt's xcb platform plugin links these; when they are on the build machine PyInstaller bundles
# them, so the one-folder bundle also runs where they are missing (the .deb depends on them too).
missing_libs=()
for pkg in libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 \
           libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0; do
  installed "$pkg" || missing_libs+=("$pkg")
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

# ---------------------------------------------------------------------------------- environment
VENV="$WORK/venv"
VPY="$VENV/bin/python"
STAMP="$(cat "$LOCK" | sha256sum | cut -c1-16)-$("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])' | tr ' /' '_-')"
pip_q() { "$VPY" -m pip --disable-pip-version-check "$@" 2>&1 | grep -v -E 'is ignored|Running pip as the .root. user|^$' || true; }
venv_matches_lock() {  # exactly the locked distributions (and pip itself), consistent
  [[ -x "$VPY" && "$(cat "$VENV/.motorchart-lock" 2>/dev/null)" == "$STAMP" ]] || return 1
  "$VPY" -m pip --disable-pip-version-check check >/dev/null 2>&1 || return 1
  diff <(grep -E '^[A-Za-z0-9]' "$LOCK" | tr 'A-Z_.' 'a-z--' | sort) \
       <("$VPY" -m pip --disable-pip-version-check freeze --all 2>/dev/null | grep -v -E '^pip==' | tr 'A-Z_.' 'a-z--' | sort)
}
if venv_matches_lock >/dev/null; then
  say "build environment ${VENV#"$ROOT"/} holds exactly ${LOCK#"$ROOT"/} (reused)"
else
  say "making a clean build environment ${VENV#"$ROOT"/} from $("$PYTHON" -V 2>&1) ($PYTHON)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  say "installing exactly ${LOCK#"$ROOT"/} into it (pip --no-deps)"
  pip_q install -q --no-deps -r "$LOCK"
  # ensurepip may bring a setuptools other than the pinned one: the lock wins
  pip_q install -q --no-deps --force-reinstall "$(grep -E '^setuptools==' "$LOCK")"
  echo "$STAMP" > "$VENV/.motorchart-lock"
  venv_matches_lock >&2 || die "the build environment does not match ${LOCK#"$ROOT"/} (pip check / pip freeze differ, above)"
fi
(cd "$SRC" && "$VPY" -c 'import domain, desktop.cli, PySide6.QtWidgets, PySide6.QtOpenGL, pyqtgraph, reportlab, sqlite_utils, pydantic, platformdirs') \
  || die "the app's code does not import in the build environment: is ${LOCK#"$ROOT"/} up to date with pyproject.toml?"

VERSION="$(cd "$SRC" && "$VPY" -c 'from domain import __version__; print(__version__)')"
say "Motorchart $VERSION with $("$VPY" -V 2>&1), PyInstaller $("$VPY" -c 'import PyInstaller; print(PyInstaller.__version__)')"

# ---------------------------------------------------------------------------------- bundle
say "building the one-folder bundle (PyInstaller) into ${DIST#"$ROOT"/}/motorchart/"
t0=$(date +%s)
rm -rf "$DIST/motorchart"
"$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK/pyinstaller" "$SRC/installer/motorchart.spec" 2>&1 \
  | grep -v -E "is ignored|required via ctypes not found|libgtk-3|libgdk-3|f2py|Failed to collect submodules for 'pyqtgraph.opengl'" || true
B="$DIST/motorchart"
I="$B/_internal"
[[ -x "$B/motorchart" ]] || die "PyInstaller did not produce ${DIST#"$ROOT"/}/motorchart/motorchart"
if ((FROM_GIT)) && grep -q "'$ROOT/desktop/" "$WORK/pyinstaller/motorchart/PYZ-00.toc"; then
  die "the bundle took modules from the working tree instead of the HEAD export"
fi
size_pyinstaller=$(du -sb "$B" | cut -f1)

is_elf() { [[ -f "$1" && ! -L "$1" && "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == '177ELF' ]]; }

# The build machine's RUNPATH: an interpreter built in a home folder (pyenv) leaves its own lib
# folder in libpython and lib-dynload. Keep only $ORIGIN-relative entries (the wheels' own).
n_rpath=0
while IFS= read -r -d '' f; do
  is_elf "$f" || continue
  rp="$(patchelf --print-rpath "$f" 2>/dev/null || true)"
  [[ -n "$rp" ]] || continue
  keep="$(tr ':' '\n' <<<"$rp" | grep -E '^\$ORIGIN' | paste -sd: - || true)"
  [[ "$keep" == "$rp" ]] && continue
  if [[ -n "$keep" ]]; then patchelf --set-rpath "$keep" "$f"; else patchelf --remove-rpath "$f"; fi
  n_rpath=$((n_rpath + 1))
done < <(find "$I" -type f \( -name '*.so' -o -name '*.so.*' \) -print0)

# Strip what the build machine contributed: libpython, lib-dynload and the system libraries
# (regular files at the top of _internal; the wheels' libraries there are symlinks into their
# package folders). Never numpy's own libraries: stripping breaks them.
strip_list=()
while IFS= read -r -d '' f; do is_elf "$f" && strip_list+=("$f"); done < <(
  find "$I" -maxdepth 1 -type f \( -name '*.so' -o -name '*.so.*' \) -print0
  find "$I"/python3.*/lib-dynload -maxdepth 1 -type f -name '*.so' -print0 2>/dev/null)
((${#strip_list[@]})) && strip --strip-unneeded "${strip_list[@]}"
# Shared libraries need no execute bit (the wheels ship Qt's with 0755; lintian and Debian policy
# want 0644).
find "$I" -type f \( -name '*.so' -o -name '*.so.*' \) -exec chmod 0644 {} +

# Nothing of the build machine's security stack (issue 21): OpenSSL, GnuTLS, Kerberos, CUPS and
# libgcrypt come from the system (Depends), or not at all.
frozen_security="$(find "$I" \( -name 'libssl.so*' -o -name 'libcrypto.so*' -o -name 'libgnutls*' -o -name 'libkrb5*' \
  -o -name 'libgssapi*' -o -name 'libk5crypto*' -o -name 'libcups.so*' -o -name 'libgcrypt*' \) -printf '%f ' )"
[[ -z "$frozen_security" ]] || die "security libraries copied into the bundle: $frozen_security(see SYSTEM_LIBS in motorchart.spec)"
# No path of the build machine: the source tree, the work folder (with the venv), the interpreter
# pyenv or a self-built Python installs in the home folder, pip's cache, and the whole home folder
# unless it is /root. (pydantic_core and Pillow as published on PyPI carry their own builders'
# paths, /root/.cargo/... and /opt/rh/.../root/...: those are in everyone's copy of the wheels.)
leaks=()
needles=("$ROOT/" "$WORK/" "${HOME:-/nonexistent}/.pyenv/" "${HOME:-/nonexistent}/.cache/")
[[ -n "${HOME:-}" && "$HOME" != "/root" && "$HOME" != "/" ]] && needles+=("$HOME/")
base_prefix="$("$PYTHON" -c 'import sys; print(sys.base_prefix)')"
[[ "$base_prefix" == /usr || "$base_prefix" == /usr/local ]] || needles+=("$base_prefix/")
for p in "${needles[@]}"; do
  hit="$(grep -rlF --binary-files=binary -e "$p" "$B" 2>/dev/null | head -3 | tr '\n' ' ' || true)"
  [[ -z "$hit" ]] || leaks+=("$p in: $hit")
done
if ((${#leaks[@]})); then
  if [[ -n "${MOTORCHART_ALLOW_BUILD_PATHS:-}" ]]; then
    say "warning: build-machine paths in the bundle: ${leaks[*]}"
  else
    die "build-machine paths in the bundle (another PYTHON than Debian's? MOTORCHART_ALLOW_BUILD_PATHS=1 to accept): ${leaks[*]}"
  fi
fi

got="$(cd /tmp && "$B/motorchart" --version)"
want="motorchart $VERSION (chart schema $(cd "$SRC" && "$VPY" -c 'from desktop.store.patient_index import SCHEMA_VERSION; print(SCHEMA_VERSION)'))"
[[ "$got" == "$want" ]] || die "the bundle says '$got', expected '$want'"
selftest="$(cd /tmp && env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen "$B/motorchart" --self-test 2>&1)" \
  || die "the bundle fails its self-test:
$selftest"
size_bundle=$(du -sb "$B" | cut -f1)
say "bundle ready in $(( $(date +%s) - t0 )) s, self-test passed: ${B#"$ROOT"/} ($(mib "$size_bundle");" \
    "$n_rpath RUNPATHs cleaned, ${#strip_list[@]} libraries stripped: $(mib $((size_pyinstaller - size_bundle))) saved)"

if ((MAKE_DEB == 0)); then
  say "sizes: bundle $(mib "$size_bundle") (${B#"$ROOT"/}); total time $(( $(date +%s) - T_START )) s"
  exit 0
fi

# ---------------------------------------------------------------------------------- .deb
ARCH="$(dpkg --print-architecture)"
DEB="$DIST/motorchart_${VERSION}_${ARCH}.deb"
STAGE="$WORK/deb/motorchart_${VERSION}_${ARCH}"
DOC="$STAGE/usr/share/doc/motorchart"
say "staging the Debian package in ${STAGE#"$ROOT"/}"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/icons/hicolor/scalable/apps" "$STAGE/usr/share/icons/hicolor/48x48/apps" \
  "$STAGE/usr/share/icons/hicolor/256x256/apps" "$DOC" "$STAGE/usr/share/man/man1"
cp -a "$B" "$STAGE/opt/motorchart"
# PyInstaller's bootloader finds _internal/ through /proc/self/exe, so a symlink on the PATH works.
ln -s /opt/motorchart/motorchart "$STAGE/usr/bin/motorchart"
install -m 644 "$SRC/installer/motorchart.desktop" "$STAGE/usr/share/applications/motorchart.desktop"
install -m 644 "$SRC/resources/icons/motorchart.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/motorchart.svg"
install -m 644 "$SRC/resources/icons/motorchart-48.png" "$STAGE/usr/share/icons/hicolor/48x48/apps/motorchart.png"
install -m 644 "$SRC/resources/icons/motorchart-256.png" "$STAGE/usr/share/icons/hicolor/256x256/apps/motorchart.png"
install -m 644 "$SRC/installer/copyright" "$DOC/copyright"
# The changelog's newest entry must be this version (a native package: changelog.gz).
top="$(head -1 "$SRC/installer/changelog")"
[[ "$top" == "motorchart ($VERSION) "* ]] || die "installer/changelog starts with '$top': add an entry for $VERSION"
gzip -9n < "$SRC/installer/changelog" > "$DOC/changelog.gz"
# The man page, from the argparse parser (no Qt is imported to build it).
(cd "$SRC" && "$VPY" installer/make_manpage.py "$WORK/motorchart.1") || die "could not generate the man page"
gzip -9n < "$WORK/motorchart.1" > "$STAGE/usr/share/man/man1/motorchart.1.gz"
chmod -R u+rwX,go+rX,go-w "$STAGE"
find "$STAGE/usr" -type f -exec chmod 644 {} +

# The newest glibc symbol version any bundled binary uses (they come from the build machine).
GLIBC_MIN="$(find "$STAGE/opt/motorchart" -type f \( -name '*.so*' -o -name motorchart \) -print0 \
  | xargs -0 -n 50 objdump -T 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1 | sed 's/GLIBC_//')"
GLIBC_MIN="${GLIBC_MIN:-2.34}"
# What Qt needs from the system: OpenGL/EGL, X11 through xcb (and its helper libraries, in case the
# build machine did not have them to bundle), fontconfig's configuration and a font; and the
# libraries taken from the system instead of frozen copies: D-Bus and CUPS (printing).
DEPENDS="libc6 (>= $GLIBC_MIN), libgl1, libegl1, libxcb1, fontconfig-config, libfontconfig1, libglib2.0-0, libdbus-1-3, libcups2, libx11-6, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-xfixes0, libxcb-xkb1"
RECOMMENDS="libwayland-client0, libwayland-cursor0, libwayland-egl1"
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<EOF
Package: motorchart
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Recommends: $RECOMMENDS
Section: science
Priority: optional
Homepage: $HOMEPAGE
Description: offline charting for motor neuron disease
 Per-muscle examination, UMN/LMN classification, El Escorial, Awaji and Gold
 Coast criteria, staging, scores and PDF reports, in a local chart file.
 .
 Self-contained: Python and Qt are bundled in /opt/motorchart. Check an
 installation with: motorchart --self-test
EOF

say "packing ${DEB#"$ROOT"/} (dpkg-deb, $DEB_COMPRESSION -$DEB_LEVEL)"
t0=$(date +%s)
rm -f "$DEB"
dpkg-deb --root-owner-group "-Z$DEB_COMPRESSION" "-z$DEB_LEVEL" --build "$STAGE" "$DEB" >/dev/null
size_deb=$(stat -c %s "$DEB")
say "package ready in $(( $(date +%s) - t0 )) s: ${DEB#"$ROOT"/}, Depends: libc6 (>= $GLIBC_MIN), ..."
deb_hint="$DEB"; [[ "$DEB" == "$ROOT"/* ]] && deb_hint="./${DEB#"$ROOT"/}"
say "install it with:  sudo apt-get install $deb_hint   then check with:  motorchart --self-test"
say "sizes: bundle $(mib "$size_bundle") (${B#"$ROOT"/}), .deb $(mib "$size_deb") (${DEB#"$ROOT"/});" \
    "total time $(( $(date +%s) - T_START )) s"
