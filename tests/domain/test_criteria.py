"""Diagnostic criteria (clinical-rules 5): revised El Escorial, Awaji-shima, Gold Coast."""

import pytest

from domain.criteria import CATEGORY_ORDER, REGISTRY
from tests.builders import case, category, classify, emg_lmn, one, r, s, visit, wasted

BULBAR_UMN = s("snout", "midline")
CERV_UMN = r("biceps", "right", 4)
LUMB_UMN = s("babinski", "left")
BULBAR_LMN = wasted("tongue", "midline")
CERV_LMN = wasted("first_dorsal_interosseous")
THOR_LMN = wasted("rectus_abdominis", "midline")
LUMB_LMN = wasted("tibialis_anterior", "left")


def test_clinically_definite_is_umn_and_lmn_together_in_three_regions():
    vc = one(BULBAR_UMN, BULBAR_LMN, CERV_UMN, CERV_LMN, LUMB_UMN, LUMB_LMN)
    assert category(vc, "el_escorial") == category(vc, "awaji") == "definite"
    assert "clause 1" in vc.criteria["el_escorial"].clause


def test_probable_distributed_needs_umn_rostral_to_lmn():
    vc = one(BULBAR_UMN, CERV_LMN)
    assert category(vc, "el_escorial") == "probable"
    assert "UMN (bulbar) rostral to LMN (cervical)" in vc.criteria["el_escorial"].clause


def test_umn_caudal_to_lmn_is_only_possible_under_the_distributed_reading():
    vc = one(LUMB_UMN, CERV_LMN)
    assert category(vc, "el_escorial") == "possible"
    assert "LMN signs rostral to UMN signs" in vc.criteria["el_escorial"].clause


def test_two_regions_with_both_are_probable_under_either_reading():
    for reading in ("distributed", "colocated"):
        vc = one(CERV_UMN, CERV_LMN, LUMB_UMN, LUMB_LMN, probable_reading=reading)
        assert category(vc, "el_escorial") == "probable"


def test_colocated_reading_leaves_bulbar_umn_with_limb_lmn_not_met_and_the_mirror_possible():
    vc = one(BULBAR_UMN, CERV_LMN, probable_reading="colocated")
    assert category(vc, "el_escorial") == "not_met"
    assert vc.criteria["el_escorial"].pending == ()
    vc = one(CERV_UMN, BULBAR_LMN, probable_reading="colocated")
    assert category(vc, "el_escorial") == "possible"


def test_one_region_with_umn_and_lmn_is_possible():
    vc = one(CERV_UMN, CERV_LMN)
    assert category(vc, "el_escorial") == "possible"


def test_umn_in_two_regions_alone_is_possible():
    vc = one(BULBAR_UMN, LUMB_UMN)
    assert category(vc, "el_escorial") == "possible"
    assert "UMN in 2 regions" in vc.criteria["el_escorial"].clause


def test_lmn_alone_is_not_met_under_rEEC_and_Awaji():
    vc = one(CERV_LMN, LUMB_LMN)
    assert category(vc, "el_escorial") == category(vc, "awaji") == "not_met"
    assert "no UMN evidence" in vc.criteria["el_escorial"].clause


def test_laboratory_supported_needs_umn_and_emg_lmn_in_two_regions():
    vc = one(LUMB_UMN, emg_lmn("tongue", "midline"), emg_lmn("biceps"), emg_lmn("first_dorsal_interosseous"))
    assert category(vc, "el_escorial") == "probable_lab_supported"
    text = "\n".join(x.text for x in vc.criteria["el_escorial"].reasons)
    assert "EMG LMN in 2 regions (bulbar, cervical)" in text


def test_a_patient_rEEC_laboratory_supported_may_be_only_Awaji_possible():
    # UMN lumbosacral; EMG LMN in cervical and thoracic: Awaji's L lies rostral to U.
    vc = one(LUMB_UMN, emg_lmn("biceps"), emg_lmn("first_dorsal_interosseous"),
             emg_lmn("rectus_abdominis", "midline"))
    assert category(vc, "el_escorial") == "probable_lab_supported"
    assert category(vc, "awaji") == "possible"


def test_rEEC_emg_predicate_decides_laboratory_support():
    # Fasciculation potentials with large MUPs satisfy Awaji but not rEEC: only cervical counts.
    vc = one(LUMB_UMN, emg_lmn("tongue", "midline", fibrillations=0, positive_sharp_waves=0),
             emg_lmn("biceps"), emg_lmn("first_dorsal_interosseous"))
    assert category(vc, "el_escorial") == "not_met"
    assert "Laboratory support not reached" in "\n".join(x.text for x in vc.criteria["el_escorial"].reasons)


def test_Awaji_counts_emg_as_lmn_and_has_no_laboratory_supported_category():
    vc = one(BULBAR_UMN, emg_lmn("biceps"), emg_lmn("first_dorsal_interosseous"))
    assert category(vc, "awaji") == "probable"
    assert category(vc, "el_escorial") == "not_met"  # UMN in one region, no clinical LMN
    assert REGISTRY["awaji"].graded


def test_there_is_no_suspected_category():
    assert "suspected" not in CATEGORY_ORDER


def test_unconfirmed_requirements_are_pending_but_the_category_is_shown():
    c = case(visit("2025-03-01", BULBAR_UMN, CERV_LMN, progressive=None, excluded=None))
    vc = classify(c).visits[0]
    assert category(vc, "el_escorial") == "probable"
    assert vc.criteria["el_escorial"].pending == ("progression", "alternatives_excluded")
    assert "Pending: progression not confirmed" in "\n".join(x.text for x in vc.criteria["el_escorial"].reasons)


def test_not_examined_regions_are_named_in_the_explanation():
    vc = one(CERV_UMN, CERV_LMN)
    text = "\n".join(x.text for x in vc.criteria["el_escorial"].reasons)
    assert "Not examined: bulbar, thoracic, lumbosacral (not examined is not normal)." in text
    assert vc.not_examined == ["bulbar", "thoracic", "lumbosacral"]


# Gold Coast

def test_gold_coast_is_met_by_umn_and_lmn_in_different_regions():
    vc = one(LUMB_UMN, CERV_LMN)
    g = vc.criteria["gold_coast"]
    assert g.met and g.conditions == {"progressive": True, "umn_lmn": True, "alternatives_excluded": True}


def test_pure_lmn_in_two_regions_meets_gold_coast():
    assert one(CERV_LMN, LUMB_LMN).criteria["gold_coast"].met


def test_pure_umn_never_meets_gold_coast():
    vc = one(BULBAR_UMN, CERV_UMN, LUMB_UMN)
    assert not vc.criteria["gold_coast"].met
    assert not vc.criteria["gold_coast"].conditions["umn_lmn"]


def test_gold_coast_clinical_lmn_needs_weakness_with_wasting():
    from tests.builders import m
    vc = one(CERV_UMN, m("tibialis_anterior", "left", "5", "mild"))
    assert not vc.criteria["gold_coast"].met
    assert category(vc, "el_escorial") == "probable"


def test_gold_coast_same_region_reading_needs_umn_and_lmn_in_one_region():
    vc = one(LUMB_UMN, CERV_LMN, gcc_reading="same_region")
    assert not vc.criteria["gold_coast"].met
    vc = one(CERV_UMN, CERV_LMN, gcc_reading="same_region")
    assert vc.criteria["gold_coast"].met


@pytest.mark.parametrize("progressive,excluded", [(None, True), (True, None), (False, True), (True, False)])
def test_gold_coast_needs_progression_and_other_causes_excluded(progressive, excluded):
    vc = classify(case(visit("2025-03-01", CERV_UMN, CERV_LMN, progressive=progressive, excluded=excluded))).visits[0]
    g = vc.criteria["gold_coast"]
    assert not g.met
    assert g.conditions["progressive"] is bool(progressive)
    assert g.conditions["alternatives_excluded"] is bool(excluded)


def test_the_gold_coast_json_has_each_condition_and_never_null():
    vc = classify(case(visit("2025-03-01", CERV_UMN, progressive=None, excluded=None))).visits[0]
    j = vc.as_json()["criteria"]["gold_coast"]
    assert j["met"] is False and j["progressive"] is False and j["alternatives_excluded"] is False
    assert j["umn_lmn"] is False


def test_every_registered_criterion_has_an_example_that_reaches_it():
    # A new criterion module must add its example here (practice 5).
    examples = {
        "el_escorial": one(BULBAR_UMN, BULBAR_LMN, CERV_UMN, CERV_LMN, LUMB_UMN, LUMB_LMN),
        "awaji": one(BULBAR_UMN, emg_lmn("biceps"), emg_lmn("first_dorsal_interosseous")),
        "gold_coast": one(CERV_LMN, LUMB_LMN),
    }
    for cid in REGISTRY:
        assert cid in examples, f"criterion {cid} has no example case"
        assert examples[cid].criteria[cid].reached


def test_exactly_one_registered_criterion_defines_regional_involvement():
    """Issue 16: spread, progression and the phenotype ask the registry, not a literal id."""
    from domain.criteria import REGISTRY, involvement_criterion
    from domain.evidence import SPREAD_CRITERION

    flagged = [c.id for c in REGISTRY.values() if c.defines_involvement]
    assert flagged == [involvement_criterion()] == [SPREAD_CRITERION]


@pytest.fixture
def fourth_criterion():
    """A criterion registered the way a new module would be, removed again afterwards."""
    from domain.criteria import CriterionResult, criterion

    def evaluate(inp):
        return CriterionResult(id="umn_babinski_only", met=bool(inp.U), clause=f"U={sorted(inp.U)}")

    criterion(
        "umn_babinski_only", label="Test", source="TEST", graded=False,
        emg_lmn=REGISTRY["gold_coast"].emg_lmn, emg_rule="as Gold Coast",
        clinical_lmn="weak_and_wasted", emg_in_l=False,
        umn_sign=lambda sign: sign.id == "babinski",
    )(evaluate)
    try:
        yield REGISTRY["umn_babinski_only"]
    finally:
        del REGISTRY["umn_babinski_only"]


def test_a_fourth_criterion_declares_its_umn_list_and_the_classifier_follows_it(fourth_criterion):
    """Issue 16: a criterion declares which signs are UMN evidence for it; adding one touches
    only its own registration. Snout counts everywhere else; this one lists only Babinski."""
    from tests.builders import U

    snout_only = one(BULBAR_UMN)
    assert U(snout_only, "el_escorial") == {"bulbar"}
    assert U(snout_only, "umn_babinski_only") == set()
    assert snout_only.criteria["umn_babinski_only"].met is False
    both = one(BULBAR_UMN, LUMB_UMN)
    assert U(both, "umn_babinski_only") == {"lumbosacral"}
    assert both.criteria["umn_babinski_only"].met is True
    assert "umn_babinski_only" in both.as_json()["criteria"]
