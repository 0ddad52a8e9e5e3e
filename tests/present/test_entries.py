"""What a grid cell may hold, in words (Qt-free): typed entries parse or are refused with what
is allowed; nothing typed ever becomes a normal value by default."""

import pytest

from desktop.present import entries as E


@pytest.mark.parametrize("text,value", [("4-", "4-"), (" 3+ ", "3+"), ("", None), ("5", "5")])
def test_mrc_entries(text, value):
    assert E.parse_mrc(text) == value


@pytest.mark.parametrize("bad", ["6", "4++", "-", "five", "3.5"])
def test_bad_mrc_entries_say_what_is_allowed(bad):
    with pytest.raises(E.EntryError, match="type one of 0 1 2- 2"):
        E.parse_mrc(bad)


@pytest.mark.parametrize("text,value", [
    ("3", (3, False)), ("3+", (3, False)), ("2+", (2, False)), ("4+", (4, False)), ("0", (0, False)),
    ("3s", (3, True)), ("3 sp", (3, True)), ("3+s", (3, True)), ("3spread", (3, True)), ("", None),
])
def test_reflex_entries_read_the_usual_plus_notation_as_the_grade_not_as_spread(text, value):
    """NINDS "3+" is grade 3: reading its "+" as spread would make a UMN sign (rule table) of
    a merely brisk reflex. Spread is typed s."""
    assert E.parse_reflex(text) == value


@pytest.mark.parametrize("text,value", [("+", True), ("y", True), ("present", True), ("-", False),
                                        ("−", False), ("n", False), ("absent", False), ("", None)])
def test_yes_no_entries_take_plus_and_minus_as_on_paper(text, value):
    assert E.parse_bool(text) is value


def test_other_entries_parse_and_refuse():
    assert E.parse_wasting("2") == "moderate" and E.parse_wasting("sev") == "severe"
    assert E.parse_reflex("3s") == (3, True) and E.parse_reflex("4") == (4, False)
    assert E.parse_bool("y") is True and E.parse_bool("n") is False
    assert E.parse_recruitment("r") == "reduced"
    for fn, bad in ((E.parse_wasting, "m"), (E.parse_reflex, "5"), (E.parse_bool, "maybe")):
        with pytest.raises(E.EntryError):
            fn(bad)


@pytest.mark.parametrize("blank", ["", " ", ".", "?", "ne"])
def test_a_cleared_cell_is_not_examined_never_normal(blank):
    for fn in (E.parse_mrc, E.parse_wasting, E.parse_bool, E.parse_reflex, E.parse_fasc_potentials):
        assert fn(blank) is None
    assert E.show(None, "bool") == E.NOT_EXAMINED
