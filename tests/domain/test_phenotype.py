"""Phenotype (clinical-rules 8; PLS20, PHEN, FAFL)."""

from tests.builders import D, case, classify, emg_lmn, m, r, s, visit, wasted

UMN2 = (s("snout", "midline"), s("babinski", "left"))


def ph(c):
    return [x.phenotype for x in classify(c).visits]


def test_pls_is_probable_from_two_years_and_definite_from_four():
    c = case(visit("2025-06-01", *UMN2), visit("2026-10-01", *UMN2), visit("2028-10-01", *UMN2),
             onset_date="2024-09-01", birth_date="1960-01-01")
    p = ph(c)
    assert [x.label for x in p] == ["umn_only", "pls_probable", "pls_definite"]
    assert p[0].provisional and p[0].final_after == D("2026-09-01")
    assert p[1].provisional and p[1].final_after == D("2028-09-01")
    assert not p[2].provisional


def test_pls_needs_age_at_onset_25_or_more():
    c = case(visit("2026-10-01", *UMN2), onset_date="2024-09-01", birth_date="2001-01-01")
    assert ph(c)[0].label == "umn_only" and not ph(c)[0].provisional


def test_lmn_evidence_ends_pls():
    c = case(visit("2026-10-01", *UMN2), visit("2027-01-01", *UMN2, wasted("first_dorsal_interosseous")),
             onset_date="2024-09-01")
    # UMN in 2 regions with LMN in one muscle/side: UMN-predominant (8.5), no longer PLS.
    assert [x.label for x in ph(c)] == ["pls_probable", "umn_predominant"]


def test_pma_is_lmn_without_umn_and_final_after_48_months():
    c = case(visit("2025-01-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left")),
             visit("2028-10-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left")),
             onset_date="2024-09-01")
    p = ph(c)
    assert [x.label for x in p] == ["pma", "pma"]
    assert p[0].provisional and p[0].final_after == D("2028-09-01") and not p[1].provisional


def test_an_umn_sign_ends_pma():
    c = case(visit("2025-01-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left")),
             visit("2025-04-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left"), s("babinski", "left")),
             onset_date="2024-09-01")
    assert ph(c)[1].label != "pma"


def test_flail_arm_is_provisional_in_the_first_year_and_final_when_still_confined_at_12_months():
    arm = (wasted("deltoid", "left"), wasted("biceps", "right"), r("biceps", "left", 4))
    c = case(visit("2025-01-01", *arm), visit("2025-09-15", *arm),
             visit("2026-03-01", *arm, wasted("tibialis_anterior", "left")), onset_date="2024-09-01")
    p = ph(c)
    assert [x.label for x in p] == ["flail_arm", "flail_arm", "flail_arm"]
    assert p[0].provisional and p[0].final_after == D("2025-09-01")
    assert not p[1].provisional
    # A final label stays after spread.
    assert not p[2].provisional


def test_spread_before_12_months_ends_a_regional_variant():
    c = case(visit("2025-01-01", wasted("deltoid", "left")),
             visit("2025-06-01", wasted("deltoid", "left"), wasted("tibialis_anterior", "left")),
             onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["flail_arm", "pma"]


def test_spasticity_or_clonus_rules_out_flail_arm_but_brisk_reflexes_are_allowed():
    c = case(visit("2025-01-01", wasted("deltoid", "left"), s("hoffmann", "left"), r("biceps", "left", 4)),
             onset_date="2024-09-01")
    assert ph(c)[0].label == "flail_arm"
    c = case(visit("2025-01-01", wasted("deltoid", "left"), s("arm_spasticity", "left")), onset_date="2024-09-01")
    assert ph(c)[0].label != "flail_arm"


def test_flail_leg_and_progressive_bulbar_palsy():
    c = case(visit("2025-01-01", wasted("tibialis_anterior", "left")), onset_date="2024-09-01")
    assert ph(c)[0].label == "flail_leg"
    c = case(visit("2025-01-01", emg_lmn("tongue", "midline"), s("snout", "midline")), onset_date="2024-09-01")
    assert ph(c)[0].label == "progressive_bulbar_palsy"


def test_the_first_late_visit_decides_a_regional_variant():
    c = case(visit("2025-01-01", wasted("deltoid", "left")),
             visit("2025-10-01", wasted("deltoid", "left"), wasted("tibialis_anterior", "left")),
             onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["flail_arm", "pma"]


def test_umn_and_lmn_predominant_and_classic():
    c = case(visit("2026-01-01", *UMN2, wasted("rectus_abdominis", "midline")), onset_date="2025-09-01")
    assert ph(c)[0].label == "umn_predominant" and not ph(c)[0].provisional
    # LMN confined to an arm in the first year is flail arm even with Babinski and snout (FAFL).
    c = case(visit("2026-01-01", *UMN2, wasted("first_dorsal_interosseous")), onset_date="2025-09-01")
    assert ph(c)[0].label == "flail_arm"
    c = case(visit("2026-01-01", wasted("tongue", "midline"), wasted("tibialis_anterior", "left"), r("biceps")),
             onset_date="2024-09-01")
    assert ph(c)[0].label == "lmn_predominant"
    many = [wasted(x) for x in ("deltoid", "biceps", "triceps")]
    c = case(visit("2026-01-01", *UMN2, *many), onset_date="2024-09-01")
    assert ph(c)[0].label == "classic" and ph(c)[0].final_after is None


def test_undetermined_without_umn_or_lmn_evidence():
    p = ph(case(visit("2025-01-01", m("deltoid", "left", "5", "none"))))[0]
    assert p.label == "undetermined" and p.provisional and p.final_after is None
    assert p.onset == "upper_limb"


def test_unknown_onset_keeps_a_windowed_label_provisional():
    p = ph(case(visit("2025-01-01", wasted("deltoid", "left"), wasted("tibialis_anterior", "left")), onset_date=None))[0]
    assert p.label == "pma" and p.provisional and p.final_after is None


def test_every_phenotype_label_has_a_name_for_people():
    from domain.phenotype import PHENOTYPE_NAMES
    labels = ("classic pls_probable pls_definite umn_only pma umn_predominant lmn_predominant "
              "flail_arm flail_leg progressive_bulbar_palsy undetermined").split()
    assert sorted(PHENOTYPE_NAMES) == sorted(labels)
    assert PHENOTYPE_NAMES["pls_probable"] == "PLS probable"
