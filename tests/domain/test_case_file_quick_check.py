"""Issue 20: a case file's text shows most files clean without walking every string
(``_clean_by_its_text``). It may only ever send a file to the full walk (``_scan``), never let
through what the walk would refuse: checked here on every kind of problem, at depth, and on
random JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.case import MAX_NESTING, MAX_TEXT, MAX_VISITS, _clean_by_its_text, _scan, case_to_data
from domain.case import MuscleFinding
from tests.builders import case, visit


def clean(data, text: str | None = None) -> bool:
    raw = (text if text is not None else json.dumps(data)).encode("utf-8")
    return _clean_by_its_text(raw, json.loads(raw))


def a_case() -> dict:
    """A signed-looking case: a visit with a muscle and notes."""
    data = case_to_data(case(visit("2025-03-01", MuscleFinding(muscle="deltoid", side="left", mrc="4")),
                             visit("2025-06-01")))
    data["visits"][0]["notes"] = "Riluzole started."
    return data


def deep(value, levels: int):
    """``value`` inside ``levels`` containers, alternately objects and lists."""
    for i in range(levels):
        value = {"x": value} if i % 2 else [value]
    return value


def test_a_clean_case_file_is_shown_clean_by_its_text():
    data = a_case()
    assert _scan(data) == [] and clean(data)
    assert clean(data, json.dumps(data, indent=2, ensure_ascii=False))  # any layout


@pytest.mark.parametrize("spoil", [
    lambda d: d["patient"].update(family_name="A\ud800B"),                  # a lone surrogate
    lambda d: d["visits"][0].update(extra=deep("\udfff", 10)),                # deep inside
    lambda d: d["visits"][0].update(extra={"k\ud801": 1}),                  # in a key
    lambda d: d["visits"][0].update(extra=deep("é" * (MAX_TEXT + 1), 5)),     # a string too long, deep
    lambda d: d["visits"][0].update(extra=['x"' * (MAX_TEXT // 2 + 1)]),      # ... of escaped quotes
    lambda d: d["visits"][0].update(extra=deep(1, MAX_NESTING - 2)),          # nested too deep (visits[0].extra)
    lambda d: d["patient"].update(given_names="Line\nbreak"),                 # a one-line field
    lambda d: d["visits"][0].update(notes="n" * 100_000),
    lambda d: d["visits"][0]["muscles"][0].update(other_cause_reason="x" * 10_000),
    lambda d: d.update(visits=d["visits"] * (MAX_VISITS // len(d["visits"]) + 1)),
])
def test_every_problem_the_walk_finds_sends_the_file_to_the_walk(spoil):
    data = a_case()
    spoil(data)
    assert _scan(data) != []
    text = json.dumps(data, ensure_ascii=True)  # surrogates written as escapes, as a file holds them
    assert not _clean_by_its_text(text.encode("ascii"), json.loads(text))


def test_nesting_at_the_limit_is_clean_and_one_level_more_is_not():
    assert _scan(deep(1, MAX_NESTING)) == [] and clean(deep(1, MAX_NESTING))
    assert _scan(deep(1, MAX_NESTING + 1)) != [] and not clean(deep(1, MAX_NESTING + 1))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.sampled_from(["\ud800", "a\\\"b", '"', "\\"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_random_json_is_never_called_clean_when_the_walk_finds_a_problem(value, ascii_only):
    data = {"patient": {"id": "MRN-1"}, "visits": [{"date": "2025-01-01", "extra": value}]}
    text = json.dumps(data, ensure_ascii=ascii_only)
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return  # (parse_case sends text it cannot encode to the walk)
    if _clean_by_its_text(raw, json.loads(raw)):
        assert _scan(json.loads(raw)) == []


@pytest.mark.parametrize("offset", [0, 1, 9_999, 10_000, 10_001, 14_321, 19_999, 20_000])
def test_a_string_over_the_limit_is_seen_wherever_it_lies(offset):
    """Without an escape in the file, a long string is found by looking for a quote in each
    window of MAX_TEXT / 2 bytes, however the string falls across the windows."""
    data = a_case()
    data["visits"][0]["extra"] = ["p" * offset, "x" * (MAX_TEXT + 1)]
    raw = json.dumps(data).encode("utf-8")
    assert b"\\" not in raw and _scan(json.loads(raw)) != []
    assert not _clean_by_its_text(raw, json.loads(raw))
    # shorter strings side by side, each under a window: still clean (a string of between
    # MAX_TEXT / 2 and MAX_TEXT bytes may be sent to the walk: slower, never wrong)
    data["visits"][0]["extra"] = ["p" * (offset % 9_000), "x" * (MAX_TEXT // 2 - 2), "y" * (MAX_TEXT // 2 - 2)]
    assert clean(data)


def test_brackets_inside_strings_never_count_as_nesting():
    inside = {"a": "[[[[{{{{", "b": "]]]]}}}}", "c": "]", "d": "["}
    at_the_limit = {"x": deep(inside, MAX_NESTING - 2)}  # (an object: the quick check reads only those)
    assert _scan(at_the_limit) == [] and clean(at_the_limit)
    # a "]" then a "[" in strings around the deepest part would hide one level too many
    too_deep = {"x": ["]", deep(1, MAX_NESTING - 1), "["]}
    assert _scan(too_deep) != [] and not clean(too_deep)


def test_a_file_without_escapes_and_one_with_them_read_the_same():
    data = a_case()
    data["visits"][0]["notes"] = 'He said "better" [sic] {ok}'
    plain, escaped = json.dumps(data, ensure_ascii=False), json.dumps(data, ensure_ascii=True)
    assert '\\"' in plain and clean(data, plain) and clean(data, escaped)
    data["visits"][0]["notes"] = "no quote, but Zoë [sic]"
    assert "\\" not in json.dumps(data, ensure_ascii=False) and clean(data, json.dumps(data, ensure_ascii=False))
