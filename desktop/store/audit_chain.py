"""The audit trail's hash chain and its head (issue 18, point 4): tamper evidence.

Every audit row is covered by a link of a hash chain: SHA-256 for a plain chart, HMAC-SHA-256
for an encrypted one, keyed by a key derived from the chart key (:func:`chain_key_of`). A link
covers the rows one write of Motorchart added (at most :data:`BLOCK_ROWS` of them; an edit in
the window adds one to a few), the user who wrote them and the link before it:

    link = H(prev link, user, every row's content (:func:`audit_payload`), first id, last id)

kept in the append-only table ``audit_links`` (one row per link: ``first_id``, ``last_id``,
``user``, ``link``). ``check`` walks the rows and the links in order and names every break
(:func:`verify_chain`): rows missing (a gap in the ids, which Motorchart never leaves), rows no
link covers (written by another program), rows that no longer match their link (changed, or a
row slipped in among them). The newest link (the *head*) is also kept outside the file, in a
sidecar beside the chart (``<chart>.head``, :func:`write_head`) and in each backup, so rows cut
off the end are found too (:func:`head_problems`).

Why links per write, not per row: a link on every row (about 70 bytes with its overhead) made
the demo chart 14% larger (``store.bytes_per_visit`` went over its target); a link per write
costs a few bytes per visit and one hash pass over the new rows, in Python, just before the
commit (:func:`seal`, called by ``ChartFile._write``). Nothing in the file computes a link, so another
program (``sqlite3``) can still write to the chart (its triggers protect it as before) and
leaves rows that ``check`` names.

The user: the chart's audit triggers write an empty user; the link records who wrote its rows
(the operating-system account of the Motorchart that wrote them), and readers show that
(:func:`user_sql`). There is no writable row naming the user any more (m010 dropped
``session``), and the link covers the user it records.

What the chain proves (README, "Private files and the audit trail"): for a plain chart, that
rows were not edited, removed or added by someone who did not recompute the chain (SHA-256
needs no secret: anyone who can write the file can rewrite the whole chain and the head file;
older backups still hold the heads they were made with). For an encrypted chart, forging links
needs the passphrase.

Standard library only (Qt-free).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

OUTSIDE_USER = "(outside Motorchart)"
"""Who a row no link covers is shown as written by."""

HASHED_COLUMNS = ("id", "time_utc", "user", "table_name", "action", "patient_id", "row_key",
                  "old_json", "new_json")
"""The audit columns a link covers, in the order :func:`audit_payload` takes them."""

LINKS_TABLE = "audit_links"
BLOCK_ROWS = 256
"""At most this many rows per link: a bulk import is sealed in blocks, so a break is named
within a few hundred rows even there."""
CHAIN_KEY_PURPOSE = "audit-chain"
HEAD_FORMAT = "motorchart-audit-head/1"
HEAD_SUFFIX = ".head"
MAX_PROBLEMS = 20


# ------------------------------------------------------------------------------ the links

def audit_payload(row: Sequence[Any]) -> bytes:
    """The bytes of one row a link covers: its :data:`HASHED_COLUMNS`, as stored (JSON text
    verbatim), each as ``-`` when NULL, else a type letter (``i`` integer, ``r`` real, ``s``
    text, ``b`` bytes as hex), the length of its text in characters, ``:`` and the text, in
    UTF-8. Unambiguous without escaping. The one place that defines it: issue 20 will store
    the audit as compact diffs; change it here, with a migration that re-links."""
    parts = []
    for v in row:
        if v is None:
            parts.append("-")
            continue
        if isinstance(v, bytes):
            tag, text = "b", v.hex()
        else:
            tag, text = _TAGS.get(type(v), "s"), str(v)
        parts.append(f"{tag}{len(text)}:{text}")
    return "".join(parts).encode("utf-8")


_TAGS = {int: "i", float: "r", str: "s"}


class _Link:
    """One link being computed: the previous link and the user, then each row, then the ids."""

    def __init__(self, prev: str | None, user: str | None, key: bytes | None):
        self._h = hashlib.sha256() if key is None else hmac.new(key, digestmod=hashlib.sha256)
        self._h.update(audit_payload(["motorchart-audit-link/1", prev, user]))

    def add(self, row: Sequence[Any]) -> None:
        self._h.update(audit_payload(row))

    def done(self, first: int, last: int) -> str:
        self._h.update(audit_payload([first, last]))
        return self._h.hexdigest()


def block_link(prev: str | None, user: str | None, rows: Iterable[Sequence[Any]], key: bytes | None = None) -> str:
    """The link over ``rows`` (their :data:`HASHED_COLUMNS`, in id order)."""
    link = _Link(prev, user, key)
    ids = []
    for r in rows:
        link.add(r)
        ids.append(r[0])
    return link.done(ids[0], ids[-1])


def chain_key_of(chart_key) -> bytes | None:
    """The chain key of an encrypted chart, derived from its chart key
    (:meth:`desktop.store.keys.ChartKey.derive`: another key than SQLCipher's, never stored);
    None for a plain chart."""
    return None if chart_key is None else chart_key.derive(CHAIN_KEY_PURPOSE)


def scheme(key: bytes | None) -> str:
    return "sha256" if key is None else "hmac-sha256"


# ------------------------------------------------------------------------------ writing

LINKS_SCHEMA = f"""
CREATE TABLE {LINKS_TABLE} (
    last_id INTEGER PRIMARY KEY,
    first_id INTEGER NOT NULL CHECK (first_id <= last_id),
    user TEXT,
    link TEXT NOT NULL CHECK (length(link) = 64)
) STRICT;
"""
"""The links (m010); ``user`` NULL: the rows name their own users (rows from before m010)."""


def last_audit_id(conn) -> int:
    """The newest audit row's id (0 for none): taken when a write begins, so that :func:`seal`
    links only the rows that write adds (rows another program left stay unlinked)."""
    return conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]


def seal(conn, after_id: int, user: str | None, key: bytes | None) -> int:
    """Link the audit rows after ``after_id`` (those the current write added), in blocks of at
    most :data:`BLOCK_ROWS`, inside the caller's transaction; returns how many rows."""
    r = conn.execute(f"SELECT link FROM {LINKS_TABLE} ORDER BY last_id DESC LIMIT 1").fetchone()
    prev = r[0] if r else None
    cur = conn.execute(f"SELECT {', '.join(HASHED_COLUMNS)} FROM audit WHERE id > ? ORDER BY id", [after_id])
    links: list[tuple] = []
    n = 0
    link, first, count, last = None, None, 0, None
    while True:
        rows = cur.fetchmany(BLOCK_ROWS * 4)
        if not rows:
            break
        for row in rows:
            if link is None:
                link, first, count = _Link(prev, user, key), row[0], 0
            link.add(row)
            last, count, n = row[0], count + 1, n + 1
            if count == BLOCK_ROWS:
                prev = link.done(first, last)
                links.append((last, first, user, prev))
                link = None
    if link is not None:
        links.append((last, first, user, link.done(first, last)))
    if links:
        conn.executemany(f"INSERT INTO {LINKS_TABLE} (last_id, first_id, user, link) VALUES (?, ?, ?, ?)", links)
    return n


def relink(conn, key: bytes | None) -> int:
    """Recompute every link under ``key`` (a chart changing key: ``motorchart encrypt`` and
    ``rekey --new-key``), keeping which rows each covers and its user; returns how many links.
    Inside the caller's transaction; the links' own append-only triggers are lifted meanwhile.
    Verify the chain under the old key first: this blesses whatever the rows say now."""
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                            [LINKS_TABLE]).fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    blocks = conn.execute(f"SELECT last_id, first_id, user FROM {LINKS_TABLE} ORDER BY last_id").fetchall()
    cols = ", ".join(HASHED_COLUMNS)
    prev, new = None, []
    for last, first, user in blocks:
        link = _Link(prev, user, key)
        for row in conn.execute(f"SELECT {cols} FROM audit WHERE id BETWEEN ? AND ? ORDER BY id", [first, last]):
            link.add(row)
        prev = link.done(first, last)
        new.append((prev, last))
    conn.executemany(f"UPDATE {LINKS_TABLE} SET link = ? WHERE last_id = ?", new)
    for _, sql in triggers:
        conn.execute(sql)
    return len(new)


def user_sql(a: str = "audit") -> str:
    """SQL for who wrote the audit row ``a``: its own user (rows from before m010), else the
    user its link records, else :data:`OUTSIDE_USER` (no link covers it)."""
    return (f"CASE WHEN {a}.user <> '' THEN {a}.user ELSE coalesce((SELECT CASE WHEN l.first_id <= {a}.id "
            f"THEN l.user END FROM {LINKS_TABLE} l WHERE l.last_id >= {a}.id ORDER BY l.last_id LIMIT 1), "
            f"'{OUTSIDE_USER}') END")


# ------------------------------------------------------------------------------ verifying

@dataclass(frozen=True)
class Head:
    """The newest link: the last row it covers (id, time) and the link (``Head(0)``: none)."""

    id: int
    time_utc: str | None = None
    chain: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "time_utc": self.time_utc, "chain": self.chain}

    @classmethod
    def from_json(cls, data: Any) -> Head | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), int) or isinstance(data.get("id"), bool):
            return None
        chain, time_utc = data.get("chain"), data.get("time_utc")
        return cls(data["id"], time_utc if isinstance(time_utc, str) else None,
                   chain if isinstance(chain, str) else None)


def has_chain(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [LINKS_TABLE]).fetchone() is not None


def last_row(conn) -> Head:
    """The chart's newest link (``Head(0)`` when there is none, or no chain yet)."""
    try:
        r = conn.execute(f"SELECT l.last_id, a.time_utc, l.link FROM {LINKS_TABLE} l "
                         "LEFT JOIN audit a ON a.id = l.last_id ORDER BY l.last_id DESC LIMIT 1").fetchone()
    except Exception:  # noqa: BLE001  (a chart from before m010: no links table; the driver's own error class)
        return Head(0)
    return Head(0) if r is None else Head(r[0], r[1], r[2])


def _where(r: Sequence[Any]) -> str:
    """``audit row 17 (2025-03-01T10:00:00.000Z, patients update MRN-0042)``."""
    what = " ".join(str(x) for x in (r[3], r[4], r[6]) if x)
    return f"audit row {r[0]} ({r[1]}{', ' + what if what else ''})"


def verify_chain(conn, key: bytes | None) -> tuple[list[str], int]:
    """Walk the audit rows and their links in order: (one line per break, naming the rows;
    the number of rows). Ids are consecutive from 1 in a trail Motorchart wrote (it never
    deletes), so a gap is rows removed; a row no link covers was written by another program; a
    link that does not match its rows means one of them was changed, or a row was slipped in
    among them, or the link itself was. After a break the walk goes on from the stored link,
    so each break is named once."""
    problems: list[str] = []
    extra = 0

    def say(line: str) -> None:
        nonlocal extra
        if len(problems) < MAX_PROBLEMS:
            problems.append(line)
        else:
            extra += 1

    cur = conn.execute(f"SELECT {', '.join(HASHED_COLUMNS)} FROM audit ORDER BY id")
    buffered: list = []

    def next_row():
        if not buffered:
            buffered.extend(reversed(cur.fetchmany(2000)))
        return buffered.pop() if buffered else None

    n = 0
    expected = 1  # the next id the trail should have
    prev_row = None  # the last row read
    row = next_row()

    def missing(first: int, last: int, where: str) -> None:
        which = f"audit row {first} is" if first == last else f"audit rows {first} to {last} are"
        say(f"{which} missing ({where}): removed outside Motorchart")

    def take():
        """Read ``row``, saying so when ids are missing before it; True if some were."""
        nonlocal row, prev_row, expected, n
        gap = row[0] > expected
        if gap:
            missing(expected, row[0] - 1, f"between row {prev_row[0]} of {prev_row[1]} and row {row[0]} of {row[1]}"
                    if prev_row is not None else f"before row {row[0]} of {row[1]}")
        taken = row
        prev_row, expected, n, row = row, row[0] + 1, n + 1, next_row()
        return taken, gap

    prev_link: str | None = None
    for last_id, first_id, user, stored in conn.execute(
            f"SELECT last_id, first_id, user, link FROM {LINKS_TABLE} ORDER BY last_id"):
        if first_id < expected or first_id > last_id:
            say(f"the audit link ending at row {last_id} overlaps the one before it: the links were changed "
                "outside Motorchart")
            prev_link = stored
            continue
        while row is not None and row[0] < first_id:  # rows no link covers
            taken, _ = take()
            say(f"{_where(taken)}: no link covers it: written outside Motorchart")
        link = _Link(prev_link, user, key)
        covered, broken = [], False
        while row is not None and row[0] <= last_id:
            taken, gap = take()
            broken = broken or gap
            link.add(taken)
            covered.append(taken)
        if expected <= last_id:  # the last rows the link covers are gone
            missing(expected, last_id, f"after row {prev_row[0]} of {prev_row[1]}" if prev_row is not None
                    else f"the link ending at row {last_id} covers them")
            broken, expected = True, last_id + 1
        if not broken and link.done(first_id, last_id) != stored:
            if first_id == last_id:
                what = f"{_where(covered[0])}{', written by ' + user + ',' if user else ''} does not match its link"
            else:
                what = (f"audit rows {first_id} to {last_id} ({covered[0][1]} to {covered[-1][1]}"
                        f"{', written by ' + user if user else ''}) do not match their link")
            say(f"{what}: changed outside Motorchart, or a row was slipped in among them, or the link was changed")
        prev_link = stored
    while row is not None:
        taken, _ = take()
        say(f"{_where(taken)}: no link covers it: written outside Motorchart")
    if extra:
        problems.append(f"... and {extra} more audit problem(s)")
    return problems, n


def head_problems(conn, chart: Path, *, key: bytes | None, last: Head,
                  backups: Iterable[tuple[str, dt.datetime, Any]] = ()) -> list[str]:
    """Rows cut off the end: the chart's newest link must reach (and match) the head recorded
    in the head file beside it and in every backup made since the chart was last restored or
    started (``backups``: (name, made UTC, head JSON)). A head recorded under the other scheme
    (the chart was encrypted since) is not compared."""
    problems: list[str] = []
    recorded = read_head(chart)
    since = None
    if isinstance(recorded, dict):
        since = _parse_utc(recorded.get("since_utc"))
        if recorded.get("scheme", scheme(key)) == scheme(key):
            h = Head.from_json(recorded)
            if h is not None:
                p = _compare(conn, last, h, f"the head file {head_path(chart)}")
                if p:
                    problems.append(p)
    elif recorded == "unreadable":
        problems.append(f"the head file {head_path(chart)} cannot be read: it was changed outside Motorchart "
                        "(or damaged)")
    worst: tuple[int, str] | None = None
    others = 0
    for name, made, data in backups:
        if since is not None and made < since:
            continue  # made before the chart was restored or started anew
        if not isinstance(data, dict) or data.get("scheme", "sha256") != scheme(key):
            continue
        h = Head.from_json(data)
        if h is None:
            continue
        p = _compare(conn, last, h, f"the backup {name} (made {made:%Y-%m-%d %H:%M} UTC)")
        if p:
            if worst is None or h.id > worst[0]:
                others += worst is not None
                worst = (h.id, p)
            else:
                others += 1
    if worst is not None:
        problems.append(worst[1] + (f" (and {others} other backup(s))" if others else ""))
    return problems


def _compare(conn, last: Head, recorded: Head, source: str) -> str | None:
    if recorded.id == 0:
        return None
    if last.id < recorded.id:
        ends = f"ends at row {last.id} of {last.time_utc}" if last.id else "is empty"
        return (f"the audit trail {ends}, but {source} records row {recorded.id} of {recorded.time_utc}: "
                f"rows {last.id + 1} to {recorded.id} were cut off the end outside Motorchart "
                "(or the chart file was replaced by an older copy)")
    r = conn.execute(f"SELECT link FROM {LINKS_TABLE} WHERE last_id = ?", [recorded.id]).fetchone()
    if r is None or r[0] != recorded.chain:
        return (f"the audit trail up to row {recorded.id} differs from what {source} records "
                f"({recorded.time_utc}): it was rewritten outside Motorchart (or the chart file was replaced by "
                "another one)")
    return None


def _parse_utc(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# ------------------------------------------------------------------------------ the head file

def head_path(chart: Path | str) -> Path:
    chart = Path(chart)
    return chart.with_name(chart.name + HEAD_SUFFIX)


def read_head(chart: Path | str) -> dict | str | None:
    """The head file's content (a dict), None when there is none, ``"unreadable"`` when it is
    there but is not a head file."""
    try:
        data = json.loads(head_path(chart).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "unreadable"
    if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
        return "unreadable"
    return data


HEAD_BYTES = 512
"""The head file's size: its JSON padded with spaces, so the open chart rewrites it in place
with one write of one sector (``ChartFile._advance_head``; a rename costs up to a millisecond
on some file systems, on every edit)."""


def head_bytes(head: Head, scheme_name: str | None, *, since_utc: str | None = None) -> bytes:
    """The head file's content. ``scheme_name`` (:func:`scheme`) None: compared whatever the
    chart's scheme (a restore, which does not know it)."""
    record: dict[str, Any] = {"format": HEAD_FORMAT, **head.as_json()}
    if scheme_name:
        record["scheme"] = scheme_name
    if since_utc:
        record["since_utc"] = since_utc
    return json.dumps(record, separators=(",", ":")).encode().ljust(HEAD_BYTES)


def write_head(chart: Path | str, head: Head, scheme_name: str | None, *, since_utc: str | None = None) -> None:
    """Write the head file beside ``chart`` (readable by its owner only) whole: a new file, then
    a rename (a restore, a key change). Not fsynced: after a crash it may be older than the
    chart (never newer: it is written after each commit), which ``check`` accepts."""
    path = head_path(chart)
    data = head_bytes(head, scheme_name, since_utc=since_utc)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o600)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def head_consistent(conn, chart: Path | str, key: bytes | None) -> bool:
    """Whether the head file (if any) records a link the chart still has: only then may the app
    move it forward (a head that says rows were cut off is evidence, kept until a backup is
    restored)."""
    recorded = read_head(chart)
    if recorded is None:
        return True
    if not isinstance(recorded, dict) or recorded.get("scheme", scheme(key)) != scheme(key):
        return False
    h = Head.from_json(recorded)
    return h is not None and _compare(conn, last_row(conn), h, "") is None


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
