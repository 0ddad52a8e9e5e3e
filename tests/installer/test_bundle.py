"""The installer: build the one-folder bundle and the .deb from a clean environment, then run the
bundle the way a clinic workstation would, with none of the project's Python (slow: a few
minutes; run with -m slow). Issue 21: the shipped app is the tested app."""

from __future__ import annotations

import configparser
import gzip
import os
import re
import shutil
import site
import subprocess
import sysconfig
from pathlib import Path

import pytest

from domain import __version__

from desktop.store.migrations import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]

# What lintian (Debian 12's 2.116, default profile: errors and warnings) may say about the .deb:
# only tags that follow from shipping a self-contained PyInstaller bundle under /opt instead of a
# program built by Debian. Any other tag fails the test.
LINTIAN_BUNDLE_TAGS = {
    # the bundle lives in /opt/motorchart (Debian's own archive may not use /opt; a vendor may)
    "dir-or-file-in-opt": "one tag per file under /opt/motorchart",
    # Python, zlib, expat, bzip2, libpng, freetype, lcms2, libjpeg, openjpeg, libtiff: copies in
    # the bundle of code Debian also packages (libpython, lib-dynload's links, Pillow's wheel)
    "embedded-library": "the bundle's own copies",
    # the wheels' binaries exactly as published: numpy's break when stripped, Pillow's are
    # patchelf-modified by auditwheel, Qt's ICU as the PySide6 wheel has it (libpython,
    # lib-dynload and the system libraries are stripped by build.sh)
    "unstripped-binary-or-object": "numpy, Pillow, ICU, charset_normalizer as published",
    # private libraries (no libc NEEDED: ICU data, libX11-xcb, small lib-dynload modules), not a
    # Debian shared-library package
    "shared-library-lacks-prerequisites": "private libraries of the bundle",
    # PyInstaller's prebuilt bootloader (opt/motorchart/motorchart) is not a PIE
    "hardening-no-pie": "the PyInstaller bootloader as its wheel ships it",
    # the DejaVu fonts the reports embed ship inside the bundle, so it runs without system
    # fonts and the self-test checks the very files; fonts-dejavu-core has the same files
    "duplicate-font-file": "the report fonts in the bundle's resources/",
    # Droid Sans Fallback (the reports' CJK letters) sets OS/2 fsType 8, "editable embedding":
    # embedding in documents, which is all the reports do (a subset in each PDF that needs it),
    # is allowed; installing it from a document is not. Debian's fonts-droid-fallback has it too.
    "truetype-font-prohibits-installable-embedding": "DroidSansFallback.ttf, embedded in PDFs only",
}


def test_the_desktop_entry_starts_the_motorchart_command_with_the_shipped_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "installer" / "motorchart.desktop", encoding="utf-8")
    d = entry["Desktop Entry"]
    assert (d["Type"], d["Exec"], d["Icon"], d["Terminal"]) == ("Application", "motorchart", "motorchart", "false")
    for name in ("motorchart.svg", "motorchart-48.png", "motorchart-256.png", "motorchart.ico", "motorchart.icns"):
        assert (ROOT / "resources" / "icons" / name).stat().st_size > 500, name


class Built:
    def __init__(self, out: Path, log: str):
        self.out = out
        self.log = log
        self.bundle = out / "dist" / "motorchart"
        self.work = out / "build"
        debs = list((out / "dist").glob("motorchart_*.deb"))
        assert len(debs) == 1, debs
        self.deb = debs[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    reuse = os.environ.get("MOTORCHART_INSTALLER_OUT")
    if reuse:  # a developer re-running these tests on a build they made with them before
        out = Path(reuse)
        return Built(out, (out / "build.log").read_text("utf-8"))
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is needed to build the .deb")
    out = tmp_path_factory.mktemp("installer")
    # No PYTHON: build.sh's default (Debian's python3.11 in a fresh venv holding the lock file).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update(MOTORCHART_DIST=str(out / "dist"), MOTORCHART_BUILD=str(out / "build"))
    proc = subprocess.run([str(ROOT / "installer" / "build.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (out / "build.log").write_text(proc.stdout, encoding="utf-8")
    print(proc.stdout)  # the sizes and times, for the CI log (pytest -s or on failure)
    return Built(out, proc.stdout)


def _without_the_projects_python(cmd: list[str]) -> list[str]:
    """As root with unshare: hide the source tree, the standard library and site-packages behind
    empty tmpfs mounts for this one process, so nothing but the bundle can be imported."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return cmd
    hide = {ROOT, Path(sysconfig.get_paths()["stdlib"]), *map(Path, site.getsitepackages())}
    hide = sorted(str(p) for p in hide if p.is_dir() and not any(q in p.parents for q in hide))
    mounts = " && ".join(f'mount -t tmpfs none "${i + 1}"' for i in range(len(hide)))
    n = len(hide)
    script = f'{mounts} && shift {n} && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", script, "sh", *hide, *cmd]


def _bare_run(args: list[str], cwd: Path, **env):
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8", **env}
    return subprocess.run(args, cwd=cwd, env=clean, capture_output=True, text=True, timeout=300)


def _elf_files(folder: Path):
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            with p.open("rb") as f:
                if f.read(4) == b"\x7fELF":
                    yield p


@pytest.mark.slow
def test_the_bundle_passes_its_self_test_with_every_view_drawn_and_none_of_the_projects_python(built, tmp_path):
    proc = _bare_run(_without_the_projects_python([str(built.bundle / "motorchart"), "--self-test"]), tmp_path,
                     QT_QPA_PLATFORM="offscreen")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"motorchart {__version__} (bundle)" in proc.stdout
    assert "platform offscreen, main window" in proc.stdout
    assert "signed visit report" in proc.stdout and "progression report" in proc.stdout
    # PySide6's support modules came compiled from the cache built into the bundle, none compiled
    loaded = re.search(r"PySide6's support modules: (\d+) loaded compiled from the cache, (\d+) compiled", proc.stdout)
    assert loaded and int(loaded.group(1)) >= 10 and loaded.group(2) == "0", proc.stdout
    assert not (tmp_path / ".cache" / "motorchart").exists()  # (HOME: the bundle writes no code cache)
    drawn = proc.stdout.split("views drawn: ", 1)[1]
    for view in ("Examination", "Needle EMG", "Signs", "History and scores",
                 "Progression (overview, body map, compare visits"):
        assert view in drawn, view
    assert int(re.search(r"(\d+) series plotted", drawn).group(1)) > 5
    assert proc.stdout.splitlines()[-1].startswith("self-test passed")


def _colours(png: Path, *, below: int = 0):
    """The image's size and its colours, counted from ``below`` pixels down."""
    from PIL import Image

    with Image.open(png) as im:
        im = im.convert("RGB")
        size = im.size
        if below:
            im = im.crop((0, below, im.width, im.height))
        return size, im.getcolors(maxcolors=im.width * im.height)


def _near(colours, hex_colour: str, tolerance: int = 30) -> int:
    """How many pixels are within ``tolerance`` (per channel) of a plot palette colour."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return sum(n for n, (r2, g2, b2) in colours
               if abs(r - r2) <= tolerance and abs(g - g2) <= tolerance and abs(b - b2) <= tolerance)


_TAB_CONTENT_TOP = 120
"""Pixels from the top of the window's screenshot to its tabs' content (menu bar, patient
header, visit bar and tab bar above)."""


@pytest.mark.slow
def test_the_bundle_draws_every_view_in_screenshots_of_the_demo_clinic(built, tmp_path):
    out = tmp_path / "shots"
    proc = _bare_run(_without_the_projects_python([str(built.bundle / "motorchart"), "screenshots", str(out),
                                                   "--demo"]), tmp_path, QT_QPA_PLATFORM="offscreen")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "unavailable" not in proc.stdout + proc.stderr
    names = {p.stem for p in out.glob("*.png")}
    assert names >= {"grid", "visit-emg", "visit-signs", "visit-history", "visit-progression",
                     "visit-classification", "overview", "bodymap", "compare"}, names
    for png in out.glob("*.png"):
        (w, h), colours = _colours(png)
        assert w >= 300 and h >= 300, png.name
        assert len(colours) >= 50, f"{png.name}: {len(colours)} colours, a blank view"
    # The progression plots drew their lines: the FVC (teal), weight (brown) and fine-motor
    # (orange) series colour only the plots, in the overview and in the window's Progression tab
    # (a blank placeholder tab, as in issue 21, has none of them, like the other tabs).
    plot_colours = ("#117a8b", "#6e4b2a", "#d68910")
    for name in ("overview", "visit-progression"):
        _size, colours = _colours(out / f"{name}.png")
        assert all(_near(colours, c) > 200 for c in plot_colours), (name, [_near(colours, c) for c in plot_colours])
    # (below the patient header, whose "draft" is as blue as the FVC's teal within the tolerance)
    _size, colours = _colours(out / "visit-history.png", below=_TAB_CONTENT_TOP)
    assert all(_near(colours, c) < 50 for c in plot_colours), [_near(colours, c) for c in plot_colours]


@pytest.mark.slow
def test_the_bundle_reports_the_package_version_and_classifies_a_case_file(built, tmp_path):
    assert (_bare_run([str(built.bundle / "motorchart"), "--version"], tmp_path).stdout.strip()
            == f"motorchart {__version__} (chart schema {SCHEMA_VERSION})")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "motorchart-case/1"}', encoding="utf-8")
    proc = _bare_run([str(built.bundle / "motorchart"), "classify", str(bad)], tmp_path)
    assert proc.returncode == 2 and "bad.json" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_the_bundle_ships_the_resources_and_only_the_runtime_dependencies(built):
    internal = built.bundle / "_internal"
    for rel in ("catalogue/muscles.csv", "fonts/DejaVuSans.ttf", "icons/motorchart.svg"):
        assert (internal / "resources" / rel).is_file(), rel
    shipped = {p.name for p in internal.iterdir()}
    assert not shipped & {"pytest", "_pytest", "hypothesis", "pytestqt", "tests", "scipy"}
    assert not (internal / "PySide6" / "QtQml.abi3.so").exists()
    assert (internal / "PySide6" / "QtOpenGL.abi3.so").exists()  # pyqtgraph needs it
    # Built from the lock file alone: none of the [test] extras' dependencies entered the archive.
    pyz = (built.work / "pyinstaller" / "motorchart" / "PYZ-00.toc").read_text("utf-8")
    modules = set(re.findall(r"\('([\w.]+)',", pyz))
    tops = {m.split(".")[0] for m in modules}
    assert not tops & {"pygments", "rich", "markdown_it", "pytest", "_pytest", "hypothesis", "attr",
                       "pypdf", "importlinter", "grimp", "ssl", "readline"}, tops
    assert {"desktop", "domain", "pyqtgraph", "reportlab", "sqlite_utils", "pydantic"} <= tops
    assert "build environment" in built.log and "requirements-release.txt" in built.log


@pytest.mark.slow
def test_the_bundle_is_trimmed_of_what_the_app_never_loads(built):
    internal = built.bundle / "_internal"
    qt = internal / "PySide6" / "Qt"
    assert not (qt / "translations").exists()
    plugins = {p.parent.name + "/" + p.name for p in (qt / "plugins").glob("*/*.so")}
    platforms = {p for p in plugins if p.startswith("platforms/")}
    assert platforms == {"platforms/libqxcb.so", "platforms/libqwayland.so", "platforms/libqoffscreen.so"}, platforms
    assert {p for p in plugins if p.startswith("imageformats/")} == {"imageformats/libqsvg.so"}
    assert not {p for p in plugins if p.startswith(("generic/", "egldeviceintegrations/", "platformthemes/libqgtk3"))}
    assert "printsupport/libcupsprintersupport.so" in plugins
    dangling = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, dangling
    names = {p.name for p in internal.rglob("*")}
    for gone in ("libQt6Network.so.6", "libreadline.so.8", "libQt6EglFSDeviceIntegration.so.6"):
        assert gone not in names, gone
    assert not [n for n in names if n.startswith(("_avif.", "_webp.", "_imagingtk.", "libavif", "libwebp"))]
    # libpython and lib-dynload carry no symbol tables (strip); numpy's libraries are untouched
    for lib in [internal / "libpython3.11.so.1.0", *(internal / "python3.11" / "lib-dynload").glob("*.so")]:
        out = subprocess.run(["objdump", "-h", str(lib)], capture_output=True, text=True, check=True).stdout
        assert " .symtab " not in out and " .debug_info " not in out, lib.name
    m = re.search(r"sizes: bundle ([\d.]+) MiB .*, \.deb ([\d.]+) MiB", built.log)
    assert m, built.log[-2000:]
    bundle_mib, deb_mib = map(float, m.groups())
    # 240 and 93.5 before issue 21, 183 and 56 after it; issues 18 and 19 then added what the app
    # needs to encrypt and to validate FHIR: sqlcipher3 with its own OpenSSL (21 MiB unpacked),
    # cryptography (15 MiB) and the fhir.resources R4B models: 220 and 68 MiB measured.
    assert bundle_mib < 225 and deb_mib < 80, (bundle_mib, deb_mib)


@pytest.mark.slow
def test_the_bundle_has_no_build_machine_paths_and_no_frozen_security_libraries(built):
    # RUNPATH/RPATH: only the wheels' own $ORIGIN-relative entries
    for elf in _elf_files(built.bundle):
        out = subprocess.run(["objdump", "-p", str(elf)], capture_output=True, text=True).stdout
        for path in re.findall(r"(?:RUNPATH|RPATH)\s+(\S+)", out):
            assert all(p.startswith("$ORIGIN") for p in path.split(":")), (elf, path)
    # No string of any file names the source tree, the work folder (with its venv), a pyenv or
    # the pip cache, or the build user's home (unless that is /root: the wheels as published carry
    # their builders' /root/.cargo/... and /opt/rh/.../root/... paths).
    home = Path.home()
    needles = {str(ROOT) + "/", str(built.work) + "/", "/.pyenv/", str(home / ".cache") + "/"}
    if str(home) not in ("/", "/root"):
        needles.add(str(home) + "/")
    needles = [n.encode() for n in needles]
    for f in built.bundle.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            assert not [n for n in needles if n in data], (f, [n for n in needles if n in data])
    names = {p.name for p in built.bundle.rglob("*")}
    frozen = [n for n in names if re.match(
        r"lib(ssl|crypto|gnutls|nettle|hogweed|krb5|krb5support|k5crypto|gssapi_krb5|cups|gcrypt|avahi-\w+)\.so", n)]
    assert not frozen, frozen


def _deb_fields(deb: Path) -> dict[str, str]:
    info = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    fields, key = {}, None
    for line in info.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


@pytest.mark.slow
def test_the_deb_installs_the_bundle_in_opt_with_a_command_a_desktop_entry_and_its_dependencies(built):
    deb = built.deb
    assert deb.name == f"motorchart_{__version__}_amd64.deb"
    fields = _deb_fields(deb)
    assert fields["Package"] == "motorchart" and fields["Version"] == __version__
    depends = [d.strip() for d in fields["Depends"].split(",")]
    # Debian 12's glibc: the README and installer/README.md name the distributions that have it
    assert depends[0] == "libc6 (>= 2.36)", depends[0]
    for pkg in ("libgl1", "libegl1", "libxcb1", "fontconfig-config", "libxcb-icccm4", "libxcb-keysyms1",
                "libxcb-cursor0", "libxkbcommon-x11-0", "libcups2", "libdbus-1-3"):
        assert pkg in depends, pkg
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                              check=True).stdout
    for entry in ("./opt/motorchart/motorchart", "./usr/bin/motorchart -> /opt/motorchart/motorchart",
                  "./usr/share/applications/motorchart.desktop",
                  "./usr/share/icons/hicolor/scalable/apps/motorchart.svg",
                  "./usr/share/icons/hicolor/256x256/apps/motorchart.png",
                  "./usr/share/doc/motorchart/changelog.gz", "./usr/share/doc/motorchart/copyright",
                  "./usr/share/man/man1/motorchart.1.gz",
                  "./opt/motorchart/_internal/resources/catalogue/muscles.csv"):
        assert entry in contents, entry
    assert "root/root" in contents and "/pytest/" not in contents


@pytest.mark.slow
def test_the_deb_has_real_metadata_a_changelog_a_copyright_notice_and_a_man_page(built, tmp_path):
    fields = _deb_fields(built.deb)
    assert fields["Maintainer"] == "Motorchart maintainers <maintainers@motorchart.org>"
    assert fields["Homepage"] == "https://motorchart.org"
    assert "example" not in fields["Maintainer"] + fields["Homepage"]
    subprocess.run(["dpkg-deb", "-x", str(built.deb), str(tmp_path)], check=True)
    doc = tmp_path / "usr" / "share" / "doc" / "motorchart"
    changelog = gzip.decompress((doc / "changelog.gz").read_bytes()).decode("utf-8")
    assert changelog.startswith(f"motorchart ({__version__}) ")
    assert "\n -- Motorchart maintainers <maintainers@motorchart.org>  " in changelog
    copyright_ = (doc / "copyright").read_text("utf-8")
    assert re.search(r"^Copyright: \d{4}(-\d{4})? Motorchart maintainers", copyright_, re.M)
    assert "License: LGPL-3" in copyright_  # Qt and PySide6, which the bundle ships
    page = gzip.decompress((tmp_path / "usr/share/man/man1/motorchart.1.gz").read_bytes()).decode("utf-8")
    for command in ("classify", "report", "screenshots", "import", "export"):
        assert f".SS {command}\n" in page, command
    assert "\\-\\-self\\-test" in page


@pytest.mark.slow
def test_lintian_reports_only_the_tags_that_follow_from_a_bundle_in_opt(built):
    if not shutil.which("lintian"):
        pytest.skip("lintian is not installed (.ci/run installs it)")
    proc = subprocess.run(["lintian", "--no-tag-display-limit", str(built.deb)],
                          capture_output=True, text=True, timeout=1800)
    tags = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"([EWIXPO]): motorchart(?: \w+)?: (\S+)(.*)", line)
        if m:
            tags.setdefault(m.group(2), []).append(m.group(3).strip())
    assert tags, proc.stdout + proc.stderr
    unexpected = {t: v[:3] for t, v in tags.items() if t not in LINTIAN_BUNDLE_TAGS}
    assert not unexpected, unexpected
    assert "dir-or-file-in-opt" in tags
