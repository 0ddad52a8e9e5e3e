"""``motorchart export --format fhir`` and ``motorchart import`` of a FHIR bundle (issue 19 points 1
and 3; :mod:`desktop.interop.fhir_export`, :mod:`desktop.interop.fhir_import`). The options are
declared on ``export`` and ``import`` (desktop.commands.store); the work is here."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from desktop.cli import UserError, read_input_file


def fhir_export_args(p: argparse.ArgumentParser) -> None:
    """The FHIR export's options, on ``export``."""
    if "--include-drafts" not in p._option_string_actions:  # the research export may declare it too
        p.add_argument("--include-drafts", action="store_true",
                       help="also export draft (unsigned) visits (FHIR: as preliminary); by default only "
                            "signed visits are exported")
    p.add_argument("--no-reports", action="store_true",
                   help="with --format fhir: leave out the signed visits' report PDFs (a smaller, faster "
                        "bundle; the signature records stay)")
    p.add_argument("--mrn-system", metavar="URI",
                   help="with --format fhir: the hospital's MRN identifier system (default: the chart's "
                        "fhir_mrn_system setting, else urn:motorchart:mrn)")


def refuse_fhir_options(args) -> None:
    """The FHIR export's own options given to another export: one line, exit status 2."""
    for flag, given in (("--no-reports", getattr(args, "no_reports", False)),
                        ("--mrn-system", getattr(args, "mrn_system", None) is not None)):
        if given:
            raise UserError(f"export: {flag} goes with --format fhir")


def export_fhir_command(args) -> int:
    """Write one patient's FHIR R4B transaction bundle to -o FILE (or standard output); an
    invalid bundle is refused, nothing written, exit status 2."""
    from desktop.commands.store import _open
    from desktop.interop.fhir_export import FhirExportError, export_fhir
    from desktop.reports.common import ReportError
    from desktop.store import StoreError

    out = Path(args.output) if args.output else None
    if out is not None:
        if out.is_dir():
            raise UserError(f"{out}: is a folder; give a file name")
        if not out.parent.is_dir():
            raise UserError(f"{out.parent}: no such folder")
    system = getattr(args, "mrn_system", None)
    if system is not None and (not system.strip() or any(c.isspace() for c in system.strip())):
        raise UserError(f"--mrn-system {system!r}: give a URI without spaces (e.g. urn:oid:1.2.3.4)")
    started = time.perf_counter()
    store = _open(args, readonly=True)
    try:
        done = export_fhir(store, args.patient, include_drafts=bool(getattr(args, "include_drafts", False)),
                           reports=not getattr(args, "no_reports", False),
                           mrn_system=system.strip() if system else None)
    except FhirExportError as e:
        raise UserError(*e.problems) from None
    except (StoreError, ReportError) as e:
        raise UserError(str(e)) from None
    finally:
        store.close(backup=False)
    if out is None:
        sys.stdout.write(done.text)
        return 0
    from desktop.outfiles import write_atomic

    try:
        write_atomic(out, done.text)
    except OSError as e:
        raise UserError(f"{out}: cannot write ({e.strerror})") from None
    drafts = f", {done.drafts} of them draft (preliminary)" if done.drafts else ""
    print(f"wrote {out}: a FHIR R4B transaction bundle of {done.entries} entries: {done.visits} visit(s){drafts}, "
          f"{done.reports} report PDF(s); {len(done.text.encode()) / 1024:.0f} kB in "
          f"{time.perf_counter() - started:.2f} s")
    if not done.visits and not getattr(args, "include_drafts", False):
        print("(no signed visit: give --include-drafts to send draft visits too)")
    print("The file is not encrypted: it holds private patient data.")
    return 0


def read_import_file(path: str, *, today, format: str = "auto"):
    """A file for ``motorchart import``: a motorchart-case/1 file, or (``format`` fhir, or auto
    and the file is a Bundle) a FHIR bundle Motorchart wrote. Returns (case, visit UUIDs or
    None); UserError lines name the file."""
    from desktop.cli import read_case_file

    if format == "json":
        return read_case_file(path, today=today), None
    if format == "auto" and not _looks_like_bundle(path):
        return read_case_file(path, today=today), None
    return read_bundle_file(path, today=today)


def _looks_like_bundle(path: str) -> bool:
    """Whether the file's first kilobytes name a FHIR Bundle and not the case format (a case
    file has no resourceType; its notes might quote one, but it names its format first)."""
    import re

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False  # read_case_file says why
    return (re.search(rb'"resourceType"\s*:\s*"Bundle"', head) is not None
            and b'"motorchart-case/1"' not in head)


MAX_BUNDLE_BYTES = 256 * 1024 * 1024
"""A bundle carries report PDFs (about 120 kB of base64 each): up to 256 MiB."""


class _Duplicate(ValueError):
    pass


def _no_duplicate_keys(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_bundle_file(path: str, *, today):
    """A FHIR bundle Motorchart wrote, as (case, visit UUIDs); UserError lines name the file."""
    from domain.patient_rules import case_problems

    from desktop.interop.fhir_import import FhirImportError, case_from_bundle
    from desktop.resources import load_catalogue

    data = read_input_file(path, MAX_BUNDLE_BYTES, "a FHIR bundle")
    if len(data) > MAX_BUNDLE_BYTES:
        raise UserError(f"{path}: larger than {MAX_BUNDLE_BYTES // 2**20} MB, the most a bundle may be")
    try:
        bundle = json.loads(data, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except _Duplicate as e:
        raise UserError(f'{path}: the key "{e.args[0]}" is written twice in one object') from None
    except RecursionError:
        raise UserError(f"{path}: not valid JSON for a bundle: nested too deep") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: the file is not UTF-8 text") from None
    except ValueError as e:
        raise UserError(f"{path}: not valid JSON ({e})") from None
    try:
        fc = case_from_bundle(bundle, load_catalogue())
    except FhirImportError as e:
        raise UserError(*[f"{path}: {line}" for line in e.problems]) from None
    problems = case_problems(fc.case, today=today)
    if problems:
        raise UserError(*[f"{path}: {line}" for line in problems])
    return fc.case, fc.visit_uuids
