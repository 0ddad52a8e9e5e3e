"""The catalogue (resources/catalogue/*.csv) parses into frozen models and rejects bad rows."""

import pytest

from domain.catalogue import CatalogueError, parse_catalogue, parse_roots
from tests.builders import ROOT, catalogue

CAT = ROOT / "resources" / "catalogue"
MUSCLES, REFLEXES, SIGNS = ((CAT / f).read_text("utf-8") for f in ("muscles.csv", "reflexes.csv", "signs.csv"))


def test_the_catalogue_matches_the_reference_muscle_list():
    ref = (ROOT.parent / "shared" / "reference" / "muscles.csv")
    if ref.exists():
        assert MUSCLES == ref.read_text("utf-8")
    assert len(catalogue().muscles) == MUSCLES.count("\n") - 1


def test_root_ranges_expand_across_segments():
    assert parse_roots("C5-T1") == ("C5", "C6", "C7", "C8", "T1")
    assert parse_roots("L5-S2") == ("L5", "S1", "S2")
    assert parse_roots("CN XII") == ("CN XII",)


def bad_muscles(old, new):
    assert old in MUSCLES
    return MUSCLES.replace(old, new, 1)


@pytest.mark.parametrize("old,new,message", [
    ("biceps,Biceps brachii,cervical", "biceps,Biceps brachii,brachial", 'region "brachial" is not one of'),
    ("C5-C6,C5-C6,musculocutaneous,biceps", "C5-C9,C5-C6,musculocutaneous,biceps", 'roots "C5-C9" is not a root'),
    ("musculocutaneous,biceps,", "musculocutaneous,bicep,", 'linked_reflex "bicep" is not a reflex'),
    ("shoulder_abduction,upper_limb,arm,proximal", "shoulder_abduction,upper_limb,arm,upper",
     'segment "upper" is not one of proximal, distal'),
    ("hypoglossal,,,,bulbar,,", "hypoglossal,,,,bulbar,,distal",
     'segment "distal" is only for limb muscles'),
])
def test_bad_rows_give_a_clear_error_naming_the_line(old, new, message):
    with pytest.raises(CatalogueError) as e:
        parse_catalogue(bad_muscles(old, new), REFLEXES, SIGNS)
    assert "muscles.csv line " in str(e.value) and message in str(e.value)


def test_adding_a_muscle_is_one_row():
    row = "anconeus,Anconeus,cervical,C7-C8,C7,radial,,,,upper_limb,arm,proximal\n"
    cat = parse_catalogue(MUSCLES + row, REFLEXES, SIGNS)
    assert cat.muscle["anconeus"].roots == ("C7", "C8")
    assert cat.muscle["anconeus"].segment == "proximal"


def test_limb_muscles_are_proximal_or_distal_and_other_muscles_have_no_segment():
    cat = catalogue()
    assert cat.muscle["deltoid"].segment == "proximal"
    assert cat.muscle["first_dorsal_interosseous"].segment == "distal"
    assert cat.muscle["quadriceps"].segment == "proximal"
    assert cat.muscle["tibialis_anterior"].segment == "distal"
    assert cat.muscle["tongue"].segment is None
    assert all(m.segment in ("proximal", "distal") for m in cat.muscles if m.limb)
    assert all(m.segment is None for m in cat.muscles if not m.limb)


def test_a_duplicate_id_is_rejected():
    with pytest.raises(CatalogueError, match='id "biceps" appears twice'):
        parse_catalogue(MUSCLES + MUSCLES.splitlines()[18] + "\n", REFLEXES, SIGNS)


def test_an_unknown_sign_side_is_rejected():
    with pytest.raises(CatalogueError, match="signs.csv line 2: sides"):
        parse_catalogue(MUSCLES, REFLEXES, SIGNS.replace("snout,Snout reflex,bulbar,midline", "snout,Snout reflex,bulbar,middle"))
