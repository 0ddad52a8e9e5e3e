"""Encryption at rest (issue 18): the chart's key, its key file, and the work behind
``motorchart encrypt``, ``rekey`` and ``demo --encrypt``. Qt-free.

The key scheme:

* An encrypted chart is an SQLCipher 4 file (:mod:`desktop.store.driver`) whose key is a random
  256-bit **chart key**, given to SQLCipher as a raw key (``PRAGMA key = "x'<64 hex>'"``): no
  key derivation on open (~0.3 ms).
* The chart key is kept **wrapped** in a small JSON **key file** beside the chart
  (``<chart>.key``, :func:`key_file`): AES-256-GCM under a key derived from the clinician's
  passphrase with Argon2id (64 MiB, 3 passes, 4 lanes; the parameters and the salt are stored
  in the file, so a file keeps opening whatever the defaults become), and a second copy under
  the **recovery key** (160 random bits shown once at setup, for printing; HKDF-SHA-256, it
  needs no slow KDF). A table inside the chart could not hold it: nothing can be read before
  the key.
* Each backups folder carries a copy of every key file its backups need
  (``<stem>-backups/<chart name>.key.<key id>``): a re-wrap (new passphrase) updates the copy of
  that key; a new key (``rekey --new-key``) adds a copy, and the older one stays, so older
  backups keep opening with the older passphrase (or recovery key).
* Keys unlocked in this process are remembered (:func:`remember`) so that the store's file
  functions (backups, restore, check) find the key a file needs without it being passed
  through every call; the window's lock calls :func:`forget_keys` after closing the chart.

Argon2 (argon2-cffi) and AES-GCM (cryptography) are imported only when a key is wrapped or
unwrapped.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .driver import apply_key, file_kind, sqlite3
from .errors import StoreError
from .paths import backups_dir

KEY_FORMAT = "motorchart-key/1"
KEY_SUFFIX = ".key"
CIPHER = "sqlcipher4-raw-key"
KDF_DEFAULTS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
"""Argon2id for a new key file: 64 MiB, 3 passes, 4 lanes (RFC 9106's second recommendation)."""
_kdf_params = dict(KDF_DEFAULTS)
MIN_PASSPHRASE = 8
RECOVERY_BYTES = 20  # 160 bits: 32 base32 characters, printed as 8 groups of 4


class WrongPassphrase(StoreError):
    """The passphrase (or recovery key) does not unwrap the chart's key."""


class ChartLocked(StoreError):
    """An encrypted chart (or backup) was opened without its key being unlocked."""


class KeyFileMissing(StoreError):
    """An encrypted chart whose key file is missing, with no copy of it in its backups folder."""


@dataclass(frozen=True)
class ChartKey:
    """A chart's 256-bit key (opaque: ``key_id`` names it, the bytes never appear in a repr)."""

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != 32:
            raise ValueError("a chart key is 32 bytes")

    @property
    def key_id(self) -> str:
        """16 hex digits naming the key (an HMAC of it: says nothing about the key)."""
        return hmac.new(self.raw, b"motorchart chart key id", hashlib.sha256).hexdigest()[:16]

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for another use, derived from the chart key (e.g. ``"audit-chain"``
        for the audit chain's HMAC): different purposes give unrelated keys."""
        return hmac.new(self.raw, b"motorchart derive " + purpose.encode("utf-8"), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"ChartKey(key_id={self.key_id!r})"


@dataclass(frozen=True)
class KeySetup:
    """A new chart key: ``recovery_key`` is shown once (for printing) and stored nowhere."""

    key: ChartKey
    recovery_key: str


@dataclass(frozen=True)
class EncryptReport:
    """What ``encrypt`` did: the new key and its recovery key, the plain backups it converted
    to encrypted ones, and the plain copies it could not convert (named to the user)."""

    key: ChartKey
    recovery_key: str
    converted: tuple[Path, ...] = ()
    left_plain: tuple[Path, ...] = ()


# ------------------------------------------------------------------------------ keys in memory

_KNOWN: dict[str, ChartKey] = {}


def remember(key: ChartKey) -> None:
    """Keep ``key`` for this process: the store's file functions find it by trying it."""
    _KNOWN[key.key_id] = key


def forget_keys() -> None:
    """Forget every key unlocked in this process (the window's lock, after closing the chart)."""
    _KNOWN.clear()


def known_keys() -> list[ChartKey]:
    return list(_KNOWN.values())


def opens(path: Path | str, key: ChartKey) -> bool:
    """Whether ``key`` decrypts the SQLite file at ``path`` (read-only; ~0.3 ms)."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        apply_key(conn, key.raw)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def key_for(path: Path | str) -> ChartKey | None:
    """A remembered key that opens the encrypted file at ``path`` (a chart or a backup):
    the one its key file names first, else any that works; None when none does."""
    path = Path(path)
    doc = _read_quietly(key_file(path))
    first = _KNOWN.get(doc.get("key_id")) if doc else None
    if first is not None and opens(path, first):
        return first
    for k in list(_KNOWN.values()):
        if k is not first and opens(path, k):
            return k
    return None


def is_encrypted(path: Path | str) -> bool:
    """Whether the chart at ``path`` is encrypted (cheap: no SQLite, no key derivation): its
    file is not plain SQLite and its key file, or a copy in its backups folder, exists."""
    path = Path(path)
    if file_kind(path) != "encrypted":
        return False
    return key_file(path).exists() or bool(_backup_key_files(path))


def is_encrypted_file(path: Path | str) -> bool:
    """Whether a file (chart or backup) is encrypted, from its first bytes alone."""
    return file_kind(path) == "encrypted"


# ------------------------------------------------------------------------------ key files

def key_file(chart: Path | str) -> Path:
    """The chart's key file: ``<chart>.key`` beside it."""
    chart = Path(chart)
    return chart.with_name(chart.name + KEY_SUFFIX)


def backup_key_file(chart: Path | str, key_id: str) -> Path:
    """The copy of key ``key_id``'s key file in the chart's backups folder."""
    chart = Path(chart)
    return backups_dir(chart) / f"{chart.name}{KEY_SUFFIX}.{key_id}"


def _backup_key_files(chart: Path) -> list[Path]:
    folder = backups_dir(chart)
    prefix = f"{chart.name}{KEY_SUFFIX}."
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and not n.endswith(".partial")]
    except OSError:
        return []
    return [folder / n for n in sorted(names)]


def read_key_file(path: Path) -> dict | None:
    """A key file's content (None when there is none); StoreError when it is not one."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreError(f"{path}: the key file cannot be read ({e.strerror})") from None
    try:
        doc = json.loads(data)
    except ValueError:
        raise StoreError(f"{path}: the key file is damaged (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("format") != KEY_FORMAT or not isinstance(doc.get("slots"), list) \
            or not isinstance(doc.get("key_id"), str):
        raise StoreError(f"{path}: not a Motorchart key file (or from a newer Motorchart)")
    return doc


def _read_quietly(path: Path) -> dict | None:
    try:
        return read_key_file(path)
    except StoreError:
        return None


def write_key_file(path: Path, doc: dict) -> None:
    """Write a key file atomically (a temporary file, fsynced, renamed), readable by its owner
    only. Fields other modules add to the document are kept by every rewrite here."""
    from desktop.outfiles import sync_folder

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def update_key_file(chart: Path | str, **fields) -> None:
    """Set top-level fields of the chart's key file (for other features that keep something
    beside the key, such as the audit chain's head); the key slots are left as they are."""
    path = key_file(chart)
    doc = read_key_file(path)
    if doc is None:
        raise KeyFileMissing(f"{chart}: the chart has no key file ({path})")
    reserved = {"format", "key_id", "slots", "cipher"} & set(fields)
    if reserved:
        raise ValueError(f"reserved key file fields: {sorted(reserved)}")
    doc.update(fields)
    write_key_file(path, doc)


def key_document(chart: Path | str, key: ChartKey, *, also: list[Path] = ()) -> dict | None:
    """A key file holding ``key``: the chart's own, else the copy in its backups folder (or in
    the folders ``also``: where a backup was found); None when there is none."""
    chart = Path(chart)
    doc = _read_quietly(key_file(chart))
    if doc is not None and doc.get("key_id") == key.key_id:
        return doc
    for folder in [backups_dir(chart), *also]:
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(f"{KEY_SUFFIX}.{key.key_id}"))
        except OSError:
            continue
        for n in names:
            doc = _read_quietly(Path(folder) / n)
            if doc is not None and doc.get("key_id") == key.key_id:
                return doc
    return None


def ensure_backup_key_file(chart: Path | str, key: ChartKey) -> None:
    """The backups folder's copy of the chart's key file for ``key``: written when missing or
    when the chart's key file (same key) was re-wrapped since."""
    chart = Path(chart)
    doc = _read_quietly(key_file(chart))
    if doc is None or doc.get("key_id") != key.key_id:
        return  # no key file of this key beside the chart: nothing to copy
    target = backup_key_file(chart, key.key_id)
    if _read_quietly(target) == doc:
        return
    write_key_file(target, doc)


# ------------------------------------------------------------------------------ wrapping

def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _aad(key_id: str, kind: str) -> bytes:
    return f"{KEY_FORMAT}|{key_id}|{kind}".encode("ascii")


def _normal(passphrase: str) -> bytes:
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _argon2(passphrase: str, kdf: dict) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(_normal(passphrase), _unb64(kdf["salt"]), time_cost=int(kdf["time_cost"]),
                           memory_cost=int(kdf["memory_cost"]), parallelism=int(kdf["parallelism"]),
                           hash_len=32, type=Type.ID)


def _hkdf(secret: bytes, salt: bytes, info: bytes) -> bytes:
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def _seal(kek: bytes, raw: bytes, aad: bytes) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return {"aead": "aes-256-gcm", "nonce": _b64(nonce), "wrapped": _b64(AESGCM(kek).encrypt(nonce, raw, aad))}


def _open_slot(kek: bytes, slot: dict, aad: bytes) -> bytes | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if slot.get("aead") != "aes-256-gcm":
        return None
    try:
        return AESGCM(kek).decrypt(_unb64(slot["nonce"]), _unb64(slot["wrapped"]), aad)
    except (InvalidTag, KeyError, ValueError):
        return None


def _passphrase_slot(key: ChartKey, passphrase: str) -> dict:
    kdf = {"name": "argon2id", **_kdf_params, "salt": _b64(os.urandom(16))}
    return {"kind": "passphrase", "kdf": kdf, **_seal(_argon2(passphrase, kdf), key.raw, _aad(key.key_id, "passphrase"))}


def _recovery_slot(key: ChartKey, recovery: bytes) -> dict:
    salt = os.urandom(16)
    kek = _hkdf(recovery, salt, b"motorchart recovery key")
    return {"kind": "recovery", "kdf": {"name": "hkdf-sha256", "salt": _b64(salt)},
            **_seal(kek, key.raw, _aad(key.key_id, "recovery"))}


def new_recovery_key() -> tuple[str, bytes]:
    """A recovery key: its printed form (8 groups of 4 base32 characters) and its bytes."""
    raw = secrets.token_bytes(RECOVERY_BYTES)
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4)), raw


def parse_recovery_key(text: str) -> bytes | None:
    """The bytes of a recovery key as typed (case, spaces and dashes ignored), or None."""
    t = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if len(t) != RECOVERY_BYTES * 8 // 5:
        return None
    try:
        return base64.b32decode(t)
    except ValueError:
        return None


def _key_document(key: ChartKey, passphrase: str, recovery: bytes) -> dict:
    return {"format": KEY_FORMAT, "key_id": key.key_id, "cipher": CIPHER, "made_utc": _now(),
            "slots": [_passphrase_slot(key, passphrase), _recovery_slot(key, recovery)]}


def _try_unwrap(doc: dict, passphrase: str, cache: dict) -> ChartKey | None:
    """The key in ``doc`` if ``passphrase`` (or a recovery key) unwraps it."""
    recovery = parse_recovery_key(passphrase)
    slots = [s for s in doc.get("slots", []) if isinstance(s, dict)]
    slots.sort(key=lambda s: 0 if (s.get("kind") == "recovery") == (recovery is not None) else 1)
    for slot in slots:
        kdf = slot.get("kdf") or {}
        kind = slot.get("kind")
        try:
            if kind == "recovery" and recovery is not None and kdf.get("name") == "hkdf-sha256":
                kek = _hkdf(recovery, _unb64(kdf["salt"]), b"motorchart recovery key")
            elif kind == "passphrase" and kdf.get("name") == "argon2id":
                memo = (kdf.get("salt"), kdf.get("time_cost"), kdf.get("memory_cost"), kdf.get("parallelism"))
                if memo not in cache:
                    cache[memo] = _argon2(passphrase, kdf)
                kek = cache[memo]
            else:
                continue
        except (KeyError, ValueError, TypeError):
            continue
        raw = _open_slot(kek, slot, _aad(doc["key_id"], kind))
        if raw is not None and len(raw) == 32 and ChartKey(raw).key_id == doc["key_id"]:
            return ChartKey(raw)
    return None


def passphrase_problem(passphrase: str | None) -> str | None:
    """None when ``passphrase`` is acceptable for a new key, else why not (one line)."""
    if not passphrase:
        return "the passphrase is empty"
    if len(passphrase) < MIN_PASSPHRASE:
        return f"the passphrase is too short (at least {MIN_PASSPHRASE} characters)"
    if passphrase.strip() != passphrase:
        return "the passphrase begins or ends with a space"
    if parse_recovery_key(passphrase) is not None:
        return "the passphrase looks like a recovery key; choose another"
    return None


def _require_passphrase(passphrase: str) -> None:
    problem = passphrase_problem(passphrase)
    if problem:
        raise StoreError(problem + "; nothing was changed")


@contextmanager
def cheap_kdf_for_tests() -> Iterator[None]:
    """Tests only: key files made inside use Argon2id with 8 KiB and 1 pass instead of 64 MiB
    and 3 passes (each key file keeps its parameters, so unlocking it later is cheap too)."""
    global _kdf_params
    before = _kdf_params
    _kdf_params = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
    try:
        yield
    finally:
        _kdf_params = before


# ------------------------------------------------------------------------------ unlocking

def unlock(chart: Path | str, passphrase: str) -> ChartKey:
    """The chart's key, unwrapped with ``passphrase`` or its recovery key (Argon2id: ~0.3 s),
    and remembered for this process.

    WrongPassphrase when neither unwraps it; KeyFileMissing when the chart's key file is gone
    and its backups folder has no copy of it. A missing key file is written again from the
    backups folder's copy that opens the chart."""
    chart = Path(chart)
    kind = file_kind(chart)
    doc = read_key_file(key_file(chart))
    copies = [(p, d) for p, d in ((p, _read_quietly(p)) for p in _backup_key_files(chart)) if d is not None]
    if doc is None:
        if kind in ("plain", "gzip"):
            raise StoreError(f"{chart}: the chart is not encrypted")
        if not copies:
            if kind in ("missing", "empty"):
                raise StoreError(f"{chart}: no chart file there")
            raise KeyFileMissing(f"{chart}: the chart's key file {key_file(chart)} is missing, and its backups "
                                 f"folder has no copy of it; the chart cannot be decrypted without it")
    if doc is not None and kind == "plain":
        raise StoreError(f"{chart}: the chart is not encrypted")
    candidates: list[dict] = [doc] if doc is not None else []
    # then the backups folder's copies of other keys, newest first: only tried when the key
    # file's key does not unwrap or open the chart (a rekey or restore stopped between the
    # chart's rename and its key file's; a missing key file)
    candidates += [d for _, d in sorted(copies, key=lambda c: c[1].get("made_utc", ""), reverse=True)
                   if doc is None or d["key_id"] != doc["key_id"]]
    cache: dict = {}
    wrong_chart = other_key = False
    for d in candidates:
        key = _try_unwrap(d, passphrase, cache)
        if key is None:
            continue
        if kind == "encrypted" and not opens(chart, key):
            if d is doc:
                wrong_chart = True
            else:
                other_key = True
            continue
        remember(key)
        if doc is None or doc["key_id"] != key.key_id:
            if kind == "encrypted":
                write_key_file(key_file(chart), d)  # repaired from the backups folder's copy
        return key
    if wrong_chart:
        raise StoreError(f"{chart}: the passphrase opens the key file, but its key does not decrypt the chart "
                         "(the chart is damaged, or its key file belongs to another chart)")
    if other_key:
        raise WrongPassphrase(f"{chart}: the passphrase is wrong for the chart's key (it opens another key of this "
                              "chart, which the backups made under it need: the chart was re-encrypted or "
                              "restored since)")
    raise WrongPassphrase(f"{chart}: the passphrase is wrong")


def unlock_older(chart: Path | str, passphrase: str) -> list[ChartKey]:
    """The older keys in the chart's backups folder that ``passphrase`` (or their recovery
    key) unwraps, remembered: the keys of backups made before a ``rekey --new-key``."""
    out = []
    cache: dict = {}
    for p in _backup_key_files(Path(chart)):
        d = _read_quietly(p)
        if d is None or d["key_id"] in _KNOWN:
            continue
        key = _try_unwrap(d, passphrase, cache)
        if key is not None:
            remember(key)
            out.append(key)
    return out


# ------------------------------------------------------------------------------ setting up

def create_encrypted(chart: Path | str, passphrase: str, *, user: str | None = None, new: bool = False) -> KeySetup:
    """A new, empty, encrypted chart at ``chart`` (its key file first, then the chart); the
    returned ``recovery_key`` is to be shown once. A chart already there is refused; so is a
    missing one beside backups of one, unless ``new`` (as ``ChartStore.open``)."""
    from .chart import ChartStore

    chart = Path(chart)
    _require_passphrase(passphrase)
    if file_kind(chart) not in ("missing", "empty"):
        raise StoreError(f"{chart}: a chart is already there; nothing was created (convert a plain chart "
                         "with: motorchart encrypt)")
    if not new:
        from .files import missing_chart

        missing = missing_chart(chart)
        if missing is not None:
            raise missing
    key = ChartKey(secrets.token_bytes(32))
    recovery_text, recovery = new_recovery_key()
    try:
        chart.parent.mkdir(parents=True, exist_ok=True)
        write_key_file(key_file(chart), _key_document(key, passphrase, recovery))
    except OSError as e:
        raise StoreError(f"{key_file(chart)}: the key file could not be written ({e.strerror or e})") from None
    try:
        store = ChartStore.open(chart, key=key, user=user, new=True, daily_backup=False)
        store.close(backup=False)
    except BaseException:
        if file_kind(chart) in ("missing", "empty"):
            key_file(chart).unlink(missing_ok=True)
        raise
    remember(key)
    ensure_backup_key_file(chart, key)  # a second copy of the key file from the start
    return KeySetup(key, recovery_text)


def change_passphrase(chart: Path | str, key: ChartKey, new_passphrase: str) -> None:
    """Wrap the chart's key with a new passphrase (the recovery key is unchanged); the backups
    folder's copy is updated, so every backup of this key opens with the new passphrase."""
    chart = Path(chart)
    _require_passphrase(new_passphrase)
    doc = read_key_file(key_file(chart))
    if doc is None:
        raise KeyFileMissing(f"{chart}: the chart has no key file ({key_file(chart)})")
    if doc["key_id"] != key.key_id:
        raise StoreError(f"{chart}: this key is not the chart's key; nothing was changed")
    slots = [s for s in doc["slots"] if s.get("kind") != "passphrase"]
    doc = {**doc, "slots": [_passphrase_slot(key, new_passphrase), *slots], "wrapped_utc": _now()}
    write_key_file(key_file(chart), doc)
    if backups_dir(chart).is_dir():
        write_key_file(backup_key_file(chart, key.key_id), doc)


def _export(src, dest: Path, key: ChartKey) -> None:
    """Copy ``src``'s database (plain or encrypted) into a new encrypted file ``dest``
    (``sqlcipher_export``; the schema version and WAL mode are set on the copy)."""
    version = src.execute("PRAGMA user_version").fetchone()[0]
    src.execute(f"ATTACH DATABASE ? AS motorchart_copy KEY \"x'{key.raw.hex()}'\"", [str(dest)])
    try:
        src.execute("SELECT sqlcipher_export('motorchart_copy')")
        src.execute(f"PRAGMA motorchart_copy.user_version = {int(version)}")
    finally:
        src.execute("DETACH DATABASE motorchart_copy")


def _differences(src, copy_schema: str) -> list[str]:
    """Where the attached copy ``copy_schema`` differs from ``src``'s main database: the schema
    version, the schema, and each ordinary table's rows (counts, then ``EXCEPT`` over rowid and
    every value, in SQLite itself). [] when they agree."""
    out = []
    q = copy_schema.replace('"', '""')
    if src.execute("PRAGMA user_version").fetchone()[0] != src.execute(f'PRAGMA "{q}".user_version').fetchone()[0]:
        out.append("schema version")
    schema = sorted((r[0], r[1], r[2] or "") for r in src.execute("SELECT type, name, sql FROM main.sqlite_master"))
    theirs = sorted((r[0], r[1], r[2] or "") for r in src.execute(f'SELECT type, name, sql FROM "{q}".sqlite_master'))
    if schema != theirs:
        out.append("schema")
        return out
    for type_, name, sql in schema:
        if type_ != "table" or sql.upper().startswith("CREATE VIRTUAL") or name.startswith("sqlite_"):
            continue
        t = name.replace('"', '""')
        counts = [src.execute(f'SELECT count(*) FROM {db}."{t}"').fetchone()[0] for db in ("main", f'"{q}"')]
        if counts[0] != counts[1]:
            out.append(f"table {name}: {counts[0]} rows, the copy {counts[1]}")
            continue
        try:
            missing = src.execute(f'SELECT count(*) FROM (SELECT rowid, * FROM main."{t}" EXCEPT '
                                  f'SELECT rowid, * FROM "{q}"."{t}")').fetchone()[0]
        except sqlite3.OperationalError:  # WITHOUT ROWID: its primary key makes rows unique
            missing = src.execute(f'SELECT count(*) FROM (SELECT * FROM main."{t}" EXCEPT '
                                  f'SELECT * FROM "{q}"."{t}")').fetchone()[0]
        if missing:
            out.append(f"table {name}: {missing} rows differ")
    return out


def _rechain(src, copy, old: ChartKey | None, new: ChartKey, *, strict: bool = True) -> bool:
    """The audit chain (:mod:`desktop.store.audit_chain`) of ``copy`` re-linked under ``new``'s
    chain key, once ``src``'s chain has verified under ``old``'s (None: a plain chart's
    SHA-256): a chart changing key keeps a chain its ``check`` can verify, and a chain that
    was broken is never blessed anew. A broken chain refuses the change (StoreError), or with
    ``strict=False`` (an old backup being converted) leaves ``copy``'s chain as it was
    (False). The links' own triggers (append-only) are lifted for the one transaction."""
    from . import audit_chain as ac

    if not ac.has_chain(src):
        return False
    problems, _ = ac.verify_chain(src, ac.chain_key_of(old))
    if problems:
        if not strict:
            return False
        where = src.execute("PRAGMA database_list").fetchone()[2]
        raise StoreError(f"{where}: the audit trail does not verify ({problems[0]}); run motorchart check; "
                         "nothing was changed")
    copy.execute("BEGIN IMMEDIATE")
    try:
        ac.relink(copy, ac.chain_key_of(new))  # (lifts the links' append-only triggers meanwhile)
        copy.execute("COMMIT")
    except BaseException:
        copy.execute("ROLLBACK")
        raise
    return True


def _write_head(chart: Path, key: ChartKey) -> None:
    """The audit chain's head file beside ``chart``, for its new chain (after a key change)."""
    from . import audit_chain as ac

    conn = sqlite3.connect(str(chart), timeout=5)  # (the writer lock is held: a read-write
    try:                                             # connection leaves no -wal or -shm behind)
        apply_key(conn, key.raw)
        if ac.has_chain(conn):
            ac.write_head(chart, ac.last_row(conn), ac.scheme(ac.chain_key_of(key)), since_utc=ac.now_utc())
    finally:
        conn.close()


def _verified_copy(src, dest: Path, key: ChartKey, *, wal: bool, old: ChartKey | None = None,
                   strict_chain: bool = True) -> None:
    """Export ``src`` into ``dest`` encrypted with ``key`` and read the copy back: SQLite's
    integrity check, and the same schema version, schema and rows as ``src``; then the audit
    chain re-linked under the new key (:func:`_rechain`; ``old``: ``src``'s key). StoreError
    (and no ``dest``) otherwise."""
    for side in ("", "-journal", "-wal", "-shm"):
        Path(str(dest) + side).unlink(missing_ok=True)
    try:
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner only, whatever the umask
        _export(src, dest, key)
        src.execute(f"ATTACH DATABASE ? AS motorchart_copy KEY \"x'{key.raw.hex()}'\"", [str(dest)])
        try:
            rows = [r[0] for r in src.execute("PRAGMA motorchart_copy.integrity_check")]
            if rows != ["ok"]:
                raise StoreError(f"{dest}: the encrypted copy failed its integrity check ({'; '.join(rows[:3])})")
            differ = _differences(src, "motorchart_copy")
            if differ:
                raise StoreError(f"{dest}: the encrypted copy differs from the original ({'; '.join(differ[:3])})")
        finally:
            src.execute("DETACH DATABASE motorchart_copy")
        copy = sqlite3.connect(str(dest))
        try:
            apply_key(copy, key.raw)
            _rechain(src, copy, old, key, strict=strict_chain)
            if wal:
                copy.execute("PRAGMA journal_mode = WAL")
        finally:
            copy.close()
    except BaseException:
        for side in ("", "-journal", "-wal", "-shm"):
            Path(str(dest) + side).unlink(missing_ok=True)
        raise


def _wipe_and_unlink(path: Path) -> None:
    """Remove a plain file, overwriting its bytes first (the name goes at once; the content is
    overwritten through an open handle). On SSDs and copy-on-write file systems old blocks may
    survive: full-disk encryption is the remedy for those, as the README says."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        os.unlink(path)
        _zero_fill(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _zero_fill(fd: int) -> None:
    """Overwrite every byte of an open file with zeros and sync it (OSError is the caller's)."""
    size = os.fstat(fd).st_size
    block = b"\x00" * (1 << 20)
    done = 0
    while done < size:
        done += os.pwrite(fd, block[:min(len(block), size - done)], done)
    os.fsync(fd)


def _plain_sides(chart: Path) -> None:
    """Remove the -wal/-shm/-journal of a closed chart (they belong to the file being replaced)."""
    for side in ("-wal", "-shm", "-journal"):
        _wipe_and_unlink(Path(str(chart) + side))


def encrypt_chart(chart: Path | str, passphrase: str, *, user: str | None = None) -> EncryptReport:
    """Convert the plain chart at ``chart`` to an encrypted one, in place.

    The writer lock is held throughout (a chart open for writing elsewhere is refused). The
    chart is checked; the encrypted copy is written beside it, read back and compared with it
    (integrity, schema version, schema, every table's rows) before it replaces the original,
    whose bytes are then overwritten. Every plain backup is converted the same way into an
    encrypted backup (same time and tag) and the plain one removed; a plain copy that cannot be
    read (a damaged backup, a ``<chart>.damaged-*`` file) is left and named in the report."""
    from desktop.outfiles import sync_folder

    from .backups import backup_infos, convert_backup_to_encrypted, remove_partials
    from .files import _acquire_lock, _quick_check, _release_lock

    chart = Path(chart)
    _require_passphrase(passphrase)
    kind = file_kind(chart)
    if kind == "encrypted":
        raise StoreError(f"{chart}: the chart is encrypted already; nothing was changed "
                         "(change its passphrase with: motorchart rekey)")
    if kind in ("missing", "empty"):
        raise StoreError(f"{chart}: no chart file there")
    if kind != "plain":
        raise StoreError(f"{chart}: not a chart file (a compressed backup?); nothing was changed")
    from .files import read_only_reason

    reason = read_only_reason(chart)
    if reason:
        raise StoreError(f"{chart}: the chart is read-only ({reason}); nothing was changed")
    fd = _acquire_lock(chart)
    try:
        tmp = chart.with_name(chart.name + ".encrypting.partial")
        src = sqlite3.connect(str(chart), timeout=5)
        try:
            problem = _quick_check(src)
            if problem:
                raise StoreError(f"{chart}: the chart is damaged ({problem}); nothing was changed")
            if not src.execute("SELECT 1 FROM sqlite_master WHERE name = 'patients'").fetchone():
                raise StoreError(f"{chart}: this SQLite file is not a Motorchart chart; nothing was changed")
            src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            wal = src.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
            key = ChartKey(secrets.token_bytes(32))
            recovery_text, recovery = new_recovery_key()
            try:
                _verified_copy(src, tmp, key, wal=wal)
            except sqlite3.Error as e:
                raise StoreError(f"{chart}: the encrypted copy could not be made ({e}); nothing was changed") from None
        finally:
            src.close()
        write_key_file(key_file(chart), _key_document(key, passphrase, recovery))
        remember(key)
        _plain_sides(chart)
        try:
            plain = os.open(chart, os.O_RDWR)
        except OSError:
            plain = None
        try:
            os.replace(tmp, chart)
            sync_folder(chart.parent)
            if plain is not None:  # the original's bytes, overwritten through the handle
                try:
                    _zero_fill(plain)
                except OSError:
                    pass
        finally:
            if plain is not None:
                os.close(plain)
        _write_head(chart, key)
        converted: list[Path] = []
        left: list[Path] = []
        remove_partials(chart)
        for info in backup_infos(chart):
            if is_encrypted_file(info.path):
                continue
            try:
                made = convert_backup_to_encrypted(chart, info, key)
            except StoreError:
                left.append(info.path)
                continue
            _wipe_and_unlink(info.path)
            converted.append(made)
        ensure_backup_key_file(chart, key)  # a second copy of the key file from the start
        left += sorted(chart.parent.glob(f"{chart.name}.damaged-*"))
    finally:
        _release_lock(fd)
    return EncryptReport(key, recovery_text, tuple(converted), tuple(left))


def rekey_chart(chart: Path | str, key: ChartKey, new_passphrase: str) -> KeySetup:
    """Re-encrypt the chart with a new random key (``rekey --new-key``), wrapped by
    ``new_passphrase`` and a new recovery key. The old key's key file stays in the backups
    folder, so the backups made before keep opening with the old passphrase."""
    from desktop.outfiles import sync_folder

    from .files import _acquire_lock, _quick_check, _release_lock

    chart = Path(chart)
    _require_passphrase(new_passphrase)
    if file_kind(chart) != "encrypted":
        raise StoreError(f"{chart}: the chart is not encrypted (encrypt it with: motorchart encrypt)")
    fd = _acquire_lock(chart)
    try:
        tmp = chart.with_name(chart.name + ".rekeying.partial")
        src = sqlite3.connect(str(chart), timeout=5)
        try:
            apply_key(src, key.raw)
            try:
                problem = _quick_check(src)
            except sqlite3.DatabaseError as e:
                problem = str(e)
            if problem:
                raise StoreError(f"{chart}: the chart does not open with this key or is damaged ({problem}); "
                                 "nothing was changed")
            src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            ensure_backup_key_file(chart, key)  # the old key stays beside the backups made with it
            if not backup_key_file(chart, key.key_id).exists():
                doc = read_key_file(key_file(chart))
                if doc is not None and doc["key_id"] == key.key_id:
                    write_key_file(backup_key_file(chart, key.key_id), doc)
            new = ChartKey(secrets.token_bytes(32))
            recovery_text, recovery = new_recovery_key()
            try:
                _verified_copy(src, tmp, new, wal=True, old=key)
            except sqlite3.Error as e:
                raise StoreError(f"{chart}: the re-encrypted copy could not be made ({e}); nothing was changed") from None
        finally:
            src.close()
        doc = _key_document(new, new_passphrase, recovery)
        old = _read_quietly(key_file(chart)) or {}
        doc.update({k: v for k, v in old.items() if k not in doc and k not in ("wrapped_utc",)})
        write_key_file(backup_key_file(chart, new.key_id), doc)  # findable if we stop between the renames
        _plain_sides(chart)
        os.replace(tmp, chart)
        sync_folder(chart.parent)
        write_key_file(key_file(chart), doc)
        remember(new)
        _write_head(chart, new)
    finally:
        _release_lock(fd)
    return KeySetup(new, recovery_text)


# ------------------------------------------------------------------------------ the OS keyring (optional)

KEYRING_SERVICE = "motorchart"


def _keyring():
    """The ``keyring`` module when it is installed and the system has a backend, else None (a
    headless Linux has none: ``NoKeyringError``; the passphrase path works alone)."""
    try:
        import keyring
        from keyring.backends.fail import Keyring as NoBackend
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001  (a broken backend configuration: as if there were none)
        return None
    if isinstance(backend, NoBackend) or getattr(backend, "priority", 1) <= 0:
        return None
    return keyring


def keyring_available() -> bool:
    """Whether the chart key can be kept in the OS keyring on this system (the window offers
    "remember on this computer" only then)."""
    return _keyring() is not None


def _keyring_user(chart: Path | str) -> str:
    return str(Path(chart).resolve())


def save_to_keyring(chart: Path | str, key: ChartKey) -> bool:
    """Keep ``key`` in the OS keyring for ``chart`` (the clinician's choice: the chart then opens
    without its passphrase while the OS session is unlocked); False when there is no keyring."""
    kr = _keyring()
    if kr is None:
        return False
    try:
        kr.set_password(KEYRING_SERVICE, _keyring_user(chart), f"{key.key_id}:{key.raw.hex()}")
        return True
    except Exception:  # noqa: BLE001  (keyring.errors.KeyringError and backend errors)
        return False


def unlock_from_keyring(chart: Path | str) -> ChartKey | None:
    """The chart's key from the OS keyring when it was kept there and still opens the chart
    (remembered), else None (no keyring, nothing kept, or another key since a rekey)."""
    kr = _keyring()
    if kr is None:
        return None
    try:
        value = kr.get_password(KEYRING_SERVICE, _keyring_user(chart))
    except Exception:  # noqa: BLE001
        return None
    if not value or ":" not in value:
        return None
    key_id, _, hexed = value.partition(":")
    try:
        key = ChartKey(bytes.fromhex(hexed))
    except ValueError:
        return None
    if key.key_id != key_id or not opens(chart, key):
        return None
    remember(key)
    return key


def forget_in_keyring(chart: Path | str) -> None:
    """Remove the chart's key from the OS keyring (nothing when there is none)."""
    kr = _keyring()
    if kr is None:
        return
    try:
        kr.delete_password(KEYRING_SERVICE, _keyring_user(chart))
    except Exception:  # noqa: BLE001
        pass
