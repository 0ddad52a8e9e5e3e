"""Encryption at rest on the command line (issue 18): ``encrypt``, ``rekey``, and the
passphrase every chart command asks for when its chart is encrypted.

The passphrase comes from ``MOTORCHART_PASSPHRASE`` (scripts, as borg and restic do), else from a
prompt on the terminal; with neither, the command stops in one line (exit 2). A new passphrase
(``encrypt``, ``demo --encrypt``) is ``MOTORCHART_PASSPHRASE`` too, or typed twice; ``rekey``
takes the new one from ``MOTORCHART_NEW_PASSPHRASE`` or the prompt. A backup made before a
``rekey --new-key`` opens with the passphrase of its time: ``MOTORCHART_BACKUP_PASSPHRASE`` (or
a prompt) when it differs from the chart's.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from desktop.cli import UserError, arguments, command

ENV = "MOTORCHART_PASSPHRASE"
NEW_ENV = "MOTORCHART_NEW_PASSPHRASE"
BACKUP_ENV = "MOTORCHART_BACKUP_PASSPHRASE"
RECOVERY_WORDS = ("shown once: print it and keep it apart from this computer; it opens the chart "
                  "if the passphrase is lost")


def _tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _prompt(text: str) -> str:
    import getpass

    try:
        return getpass.getpass(text)
    except EOFError:
        raise UserError("no passphrase was given") from None


def ask_passphrase(path: Path, *, env: str = ENV, what: str = "the chart's passphrase") -> str:
    """The passphrase for ``path``: ``env`` (default MOTORCHART_PASSPHRASE), else a terminal
    prompt, else one line and exit 2."""
    value = os.environ.get(env)
    if value:
        return value
    if not _tty():
        raise UserError(f"{path}: the chart is encrypted: give {what} in {env} "
                        "(or run the command on a terminal to be asked for it)")
    return _prompt(f"{what[0].upper() + what[1:]} for {path}: ")


def new_passphrase(path: Path, *, env: str = ENV) -> str:
    """A new passphrase: ``env``, else typed twice on the terminal; checked for strength."""
    from desktop.store.keys import passphrase_problem

    value = os.environ.get(env)
    if not value:
        if not _tty():
            raise UserError(f"{path}: give the new passphrase in {env} (or run the command on a terminal "
                            "to be asked for it)")
        value = _prompt(f"New passphrase for {path}: ")
        problem = passphrase_problem(value)
        if problem:
            raise UserError(f"{problem}; nothing was changed")
        if _prompt("The same passphrase again: ") != value:
            raise UserError("the two passphrases differ; nothing was changed")
    problem = passphrase_problem(value)
    if problem:
        raise UserError(f"{env}: {problem}; nothing was changed")
    return value


def unlock_chart(path: Path):
    """The key of the chart at ``path`` when it is encrypted (asked for and unlocked once per
    process; then remembered), else None. A wrong passphrase: one line, exit 2."""
    from desktop.store import StoreError, keys

    if not keys.is_encrypted(path):
        return None
    found = keys.key_for(path)
    if found is not None:
        return found
    passphrase = ask_passphrase(path)
    try:
        return keys.unlock(path, passphrase)
    except keys.WrongPassphrase as e:
        given = f" (given in {ENV})" if os.environ.get(ENV) else ""
        raise UserError(f"{e}{given}; nothing was done") from None
    except StoreError as e:
        raise UserError(str(e)) from None


def unlock_backups(chart: Path, backup: Path | None = None) -> None:
    """The keys of older backups (made before a ``rekey --new-key``): first with the chart's
    passphrase, then, when ``backup`` still does not open, ``MOTORCHART_BACKUP_PASSPHRASE`` or
    a prompt."""
    from desktop.store import keys

    for env in (ENV, BACKUP_ENV):
        passphrase = os.environ.get(env)
        if passphrase:
            keys.unlock_older(chart, passphrase)
    if backup is None or not keys.is_encrypted_file(backup) or keys.key_for(backup) is not None:
        return
    from desktop.store.driver import whole_pages

    if not whole_pages(backup):  # (not SQLite, not gzip, and not the size of an encrypted file)
        raise UserError(f"{backup}: not a Motorchart chart or backup (neither SQLite, nor compressed, nor the "
                        "size of an encrypted one); nothing was restored")
    value = os.environ.get(BACKUP_ENV)
    if not value and _tty():
        value = _prompt(f"Passphrase of the time {backup.name} was made: ")
    if not value:
        raise UserError(f"{backup}: no key this chart holds opens it: an encrypted backup from before a rekey "
                        f"--new-key needs the passphrase of its time in {BACKUP_ENV} (otherwise the file is "
                        "damaged or not a Motorchart backup); nothing was restored")
    keys.unlock_older(chart, value)
    if keys.key_for(backup) is None:
        raise UserError(f"{backup}: the passphrase is wrong for this backup's key; nothing was restored")


def print_recovery_key(recovery_key: str) -> None:
    print(f"recovery key: {recovery_key}")
    print(f"  ({RECOVERY_WORDS})")


# ------------------------------------------------------------------------------ encrypt

def _encrypt_args(p: argparse.ArgumentParser):
    pass


@command("encrypt", "encrypt a plain chart in place (SQLCipher), with its backups; prints the recovery key once")
@arguments(_encrypt_args)
def cmd_encrypt(args) -> int:
    """The encrypted copy is verified before it replaces the chart; every plain backup is
    converted to an encrypted one and removed; plain copies that cannot be converted are named
    (delete them when no longer needed)."""
    from desktop.store import StoreError, keys
    from desktop.store.paths import chart_path

    path = chart_path(getattr(args, "db", None))
    if not path.exists():
        raise UserError(f"{path}: no chart file there (use --db PATH or MOTORCHART_DB)")
    if keys.is_encrypted(path) or keys.is_encrypted_file(path):
        raise UserError(f"{path}: the chart is encrypted already; nothing was changed "
                        "(change its passphrase with: motorchart rekey)")
    passphrase = new_passphrase(path)
    try:
        report = keys.encrypt_chart(path, passphrase)
    except StoreError as e:
        raise UserError(str(e)) from None
    print(f"encrypted {path} (key file {keys.key_file(path)})")
    print_recovery_key(report.recovery_key)
    if report.converted:
        print(f"backups: {len(report.converted)} plain backup(s) converted to encrypted ones; the plain ones "
              "were removed")
    for p in report.left_plain:
        print(f"warning: {p} is a plain copy that could not be converted (damaged?); delete it when no longer "
              "needed", file=sys.stderr)
    print("exports and PDFs made before stay plain files: delete the ones no longer needed")
    return 0


# ------------------------------------------------------------------------------ rekey

def _rekey_args(p: argparse.ArgumentParser):
    p.add_argument("--new-key", action="store_true",
                   help="re-encrypt the chart with a new key (older backups keep opening with the old "
                        "passphrase and recovery key); without it, only the passphrase changes")


@command("rekey", "change an encrypted chart's passphrase, or with --new-key re-encrypt it with a new key")
@arguments(_rekey_args)
def cmd_rekey(args) -> int:
    from desktop.store import StoreError, keys
    from desktop.store.paths import chart_path

    path = chart_path(getattr(args, "db", None))
    if not path.exists():
        raise UserError(f"{path}: no chart file there (use --db PATH or MOTORCHART_DB)")
    if not keys.is_encrypted(path):
        raise UserError(f"{path}: the chart is not encrypted; encrypt it with: motorchart encrypt")
    key = unlock_chart(path)
    new = new_passphrase(path, env=NEW_ENV)
    try:
        if args.new_key:
            setup = keys.rekey_chart(path, key, new)
        else:
            keys.change_passphrase(path, key, new)
    except StoreError as e:
        raise UserError(str(e)) from None
    if args.new_key:
        print(f"re-encrypted {path} with a new key, under the new passphrase")
        print_recovery_key(setup.recovery_key)
        print("backups made before keep opening with the old passphrase (and the old recovery key); "
              "new backups use the new key")
    else:
        print(f"changed the passphrase of {path}; its backups open with the new passphrase too "
              "(the recovery key is unchanged)")
    return 0
