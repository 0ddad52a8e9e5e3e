"""Phenotype (clinical-rules 8; PLS20, PHEN, FAFL)."""

from tests.builders import D, alsfrs, case, classify, emg_lmn, m, r, s, visit, wasted

UMN2 = (s("snout", "midline"), s("babinski", "left"))
FLAIL_ARM = (wasted("deltoid", "left"), wasted("biceps", "right"))  # proximal, both arms
HANDS = tuple(wasted(x, side) for x in ("first_dorsal_interosseous", "abductor_pollicis_brevis")
              for side in ("left", "right"))  # distal, both arms
WORKING = "Motorchart's working definition, not a published criterion"


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
    c = case(visit("2025-01-01", *FLAIL_ARM),
             visit("2025-06-01", *FLAIL_ARM, wasted("tibialis_anterior", "left")),
             onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["flail_arm", "pma"]


def test_spasticity_or_clonus_rules_out_flail_arm_but_brisk_reflexes_are_allowed():
    c = case(visit("2025-01-01", *FLAIL_ARM, s("hoffmann", "left"), r("biceps", "left", 4)),
             onset_date="2024-09-01")
    assert ph(c)[0].label == "flail_arm"
    c = case(visit("2025-01-01", *FLAIL_ARM, s("arm_spasticity", "left")), onset_date="2024-09-01")
    assert ph(c)[0].label != "flail_arm"


def test_flail_leg_and_progressive_bulbar_palsy():
    c = case(visit("2025-01-01", wasted("tibialis_anterior", "left")), onset_date="2024-09-01")
    assert ph(c)[0].label == "flail_leg"
    c = case(visit("2025-01-01", emg_lmn("tongue", "midline"), s("snout", "midline")), onset_date="2024-09-01")
    assert ph(c)[0].label == "progressive_bulbar_palsy"


def test_the_first_late_visit_decides_a_regional_variant():
    c = case(visit("2025-01-01", *FLAIL_ARM),
             visit("2025-10-01", *FLAIL_ARM, wasted("tibialis_anterior", "left")),
             onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["flail_arm", "pma"]


def test_umn_and_lmn_predominant_and_classic():
    c = case(visit("2026-01-01", *UMN2, wasted("rectus_abdominis", "midline")), onset_date="2025-09-01")
    assert ph(c)[0].label == "umn_predominant" and not ph(c)[0].provisional
    # LMN confined to the arms in the first year is flail arm even with Babinski and snout (FAFL).
    c = case(visit("2026-01-01", *UMN2, *FLAIL_ARM), onset_date="2025-09-01")
    assert ph(c)[0].label == "flail_arm"
    # One wasted hand muscle is not flail arm (8.2): UMN-predominant.
    c = case(visit("2026-01-01", *UMN2, wasted("first_dorsal_interosseous")), onset_date="2025-09-01")
    assert ph(c)[0].label == "umn_predominant"
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


# Rule 6: PLS and UMN-only need no *significant* LMN degeneration (clinical-rules 8.1, 8.4; PLS20).

ISOLATED_FDI = "isolated EMG finding tolerated: First dorsal interosseous R (cervical regional EMG rule not met)"


def test_pls_tolerates_one_isolated_denervated_muscle_and_names_it_in_the_reason():
    c = case(visit("2026-10-01", *UMN2, emg_lmn("first_dorsal_interosseous")),
             visit("2028-10-01", *UMN2, emg_lmn("first_dorsal_interosseous")),
             onset_date="2024-09-01", birth_date="1960-01-01")
    p = ph(c)
    assert [x.label for x in p] == ["pls_probable", "pls_definite"]
    assert ISOLATED_FDI in p[0].reason and ISOLATED_FDI in p[1].reason


def test_an_isolated_finding_seen_at_an_earlier_visit_is_still_named():
    c = case(visit("2026-10-01", *UMN2, emg_lmn("first_dorsal_interosseous")), visit("2028-10-01", *UMN2),
             onset_date="2024-09-01")
    p = ph(c)[1]
    assert p.label == "pls_definite" and ISOLATED_FDI in p.reason


def test_two_muscles_meeting_the_cervical_emg_regional_rule_end_pls():
    fdi_biceps = (emg_lmn("first_dorsal_interosseous"), emg_lmn("biceps"))  # ulnar C8-T1, musculocutaneous C5-C6
    c = case(visit("2028-10-01", *UMN2, *fdi_biceps), onset_date="2024-09-01")
    p = ph(c)[0]
    assert p.label == "umn_predominant"


def test_two_muscles_sharing_roots_stay_isolated_findings_and_pls_stands():
    fdi_apb = (emg_lmn("first_dorsal_interosseous"), emg_lmn("abductor_pollicis_brevis"))  # both C8-T1
    p = ph(case(visit("2028-10-01", *UMN2, *fdi_apb), onset_date="2024-09-01"))[0]
    assert p.label == "pls_definite"
    assert "isolated EMG findings tolerated: First dorsal interosseous R" in p.reason
    assert "Abductor pollicis brevis R (cervical regional EMG rule not met)" in p.reason


def test_pls_is_re_evaluated_and_ends_when_the_region_comes_to_meet_the_emg_rule():
    c = case(visit("2026-10-01", *UMN2, emg_lmn("first_dorsal_interosseous")),
             visit("2027-04-01", *UMN2, emg_lmn("first_dorsal_interosseous"), emg_lmn("biceps")),
             visit("2028-10-01", *UMN2), onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["pls_probable", "umn_predominant", "umn_predominant"]


def test_one_bulbar_muscle_with_emg_lmn_meets_the_bulbar_rule_and_ends_pls():
    c = case(visit("2028-10-01", *UMN2, emg_lmn("tongue", "midline")), onset_date="2024-09-01")
    assert ph(c)[0].label == "umn_predominant"


def test_clinical_lmn_evidence_in_one_muscle_ends_pls():
    c = case(visit("2028-10-01", *UMN2, wasted("first_dorsal_interosseous")), onset_date="2024-09-01")
    assert ph(c)[0].label == "umn_predominant"


def test_an_ignored_muscle_does_not_end_pls():
    ignored = (emg_lmn("biceps", other_cause=True), emg_lmn("first_dorsal_interosseous", other_cause=True))
    c = case(visit("2028-10-01", *UMN2, *ignored), onset_date="2024-09-01")
    p = ph(c)[0]
    assert p.label == "pls_definite" and "isolated" not in p.reason


def test_umn_only_tolerates_an_isolated_emg_finding_and_names_it():
    c = case(visit("2025-12-01", s("hoffmann", "left"), emg_lmn("first_dorsal_interosseous")), onset_date="2024-09-01")
    p = ph(c)[0]
    assert p.label == "umn_only" and p.provisional and p.final_after == D("2026-09-01")
    assert ISOLATED_FDI in p.reason


def test_significant_lmn_evidence_ends_umn_only():
    c = case(visit("2025-12-01", s("hoffmann", "left"), emg_lmn("first_dorsal_interosseous"), emg_lmn("biceps")),
             onset_date="2024-09-01")
    assert ph(c)[0].label == "classic"


def test_an_isolated_emg_finding_still_counts_as_lmn_evidence_for_pma():
    p = ph(case(visit("2025-12-01", emg_lmn("first_dorsal_interosseous")), onset_date="2024-09-01"))[0]
    assert p.label == "pma"


# Rule 8: regional variants (clinical-rules 8.2; PHEN, FAFL).

def test_flail_arm_needs_proximal_lmn_evidence_in_both_arms():
    early = dict(onset_date="2024-09-01")
    assert ph(case(visit("2025-01-01", *FLAIL_ARM), **early))[0].label == "flail_arm"
    one_arm = (wasted("deltoid"), wasted("biceps"), wasted("triceps"))
    assert ph(case(visit("2025-01-01", *one_arm), **early))[0].label == "pma"
    assert ph(case(visit("2025-01-01", *HANDS), **early))[0].label == "pma"


def test_bilateral_hand_wasting_is_not_finalised_as_flail_arm():
    c = case(visit("2025-01-01", *HANDS), visit("2025-09-15", *HANDS), onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["pma", "pma"]


def test_a_one_armed_patient_is_not_finalised_as_flail_arm():
    one_arm = (wasted("deltoid"), wasted("biceps"))
    c = case(visit("2025-01-01", *one_arm), visit("2025-09-15", *one_arm), onset_date="2024-09-01")
    assert [x.label for x in ph(c)] == ["pma", "pma"]


def test_flail_arm_needs_at_least_as_many_proximal_as_distal_arm_muscles_with_lmn_evidence():
    early = dict(onset_date="2024-09-01")
    three_distal = (wasted("first_dorsal_interosseous", "left"), wasted("first_dorsal_interosseous"),
                    wasted("abductor_pollicis_brevis"))
    assert ph(case(visit("2025-01-01", *FLAIL_ARM, *three_distal), **early))[0].label == "pma"
    p = ph(case(visit("2025-01-01", *FLAIL_ARM, wasted("triceps", "left"), *three_distal), **early))[0]
    assert p.label == "flail_arm" and "3 proximal and 3 distal arm muscle/side(s)" in p.reason


def test_the_flail_arm_pattern_is_cumulative_over_the_first_year_visits():
    c = case(visit("2025-01-01", wasted("deltoid", "left")), visit("2025-03-01", wasted("biceps", "right")),
             visit("2025-09-15", wasted("biceps", "right")), onset_date="2024-09-01")
    p = ph(c)
    assert [x.label for x in p] == ["pma", "flail_arm", "flail_arm"]
    assert p[1].provisional and not p[2].provisional


def test_the_flail_arm_pattern_is_judged_on_the_first_year_and_not_on_the_deciding_visit():
    c = case(visit("2025-01-01", *FLAIL_ARM), visit("2025-09-15", *FLAIL_ARM, *HANDS), onset_date="2024-09-01")
    p = ph(c)
    assert [x.label for x in p] == ["flail_arm", "flail_arm"] and not p[1].provisional


def test_flail_leg_needs_at_least_as_many_distal_as_proximal_leg_muscles_with_lmn_evidence():
    early = dict(onset_date="2024-09-01")
    assert ph(case(visit("2025-01-01", wasted("quadriceps")), **early))[0].label == "pma"
    c = case(visit("2025-01-01", wasted("quadriceps"), wasted("tibialis_anterior", "left")), **early)
    assert ph(c)[0].label == "flail_leg"


def test_an_alsfrs_r_item_of_another_region_below_4_in_the_first_year_rules_out_flail_arm():
    early = dict(onset_date="2024-09-01")
    c = case(visit("2025-01-01", *FLAIL_ARM, alsfrs_r=alsfrs(walking=3)), **early)
    assert ph(c)[0].label == "pma"
    c = case(visit("2025-01-01", *FLAIL_ARM, alsfrs_r=alsfrs(swallowing=3)), **early)
    assert ph(c)[0].label == "pma"
    # Items of the arms themselves are the variant's own territory.
    c = case(visit("2025-01-01", *FLAIL_ARM, alsfrs_r=alsfrs(handwriting=2, cutting_food=3)), **early)
    assert ph(c)[0].label == "flail_arm"


def test_an_alsfrs_r_arm_item_below_4_rules_out_progressive_bulbar_palsy():
    bulbar = (emg_lmn("tongue", "midline"), s("snout", "midline"))
    c = case(visit("2025-01-01", *bulbar, alsfrs_r=alsfrs(handwriting=3)), onset_date="2024-09-01")
    assert ph(c)[0].label != "progressive_bulbar_palsy"
    c = case(visit("2025-01-01", *bulbar, alsfrs_r=alsfrs(speech=2)), onset_date="2024-09-01")
    assert ph(c)[0].label == "progressive_bulbar_palsy"


def test_spastic_dysarthria_rules_out_flail_arm_but_not_progressive_bulbar_palsy():
    c = case(visit("2025-01-01", *FLAIL_ARM, s("spastic_dysarthria", "midline")), onset_date="2024-09-01")
    assert ph(c)[0].label != "flail_arm"
    c = case(visit("2025-01-01", emg_lmn("tongue", "midline"), s("spastic_dysarthria", "midline")),
             onset_date="2024-09-01")
    assert ph(c)[0].label == "progressive_bulbar_palsy"


def test_a_weak_muscle_outside_the_territory_rules_out_flail_arm_unless_attributed_to_another_cause():
    early = dict(onset_date="2024-09-01")
    weak_leg = m("tibialis_anterior", "left", "4", "none")  # weak, not wasted: no LMN evidence
    assert ph(case(visit("2025-01-01", *FLAIL_ARM, weak_leg), **early))[0].label != "flail_arm"
    ignored = m("tibialis_anterior", "left", "3", "severe", other_cause=True)
    assert ph(case(visit("2025-01-01", *FLAIL_ARM, ignored), **early))[0].label == "flail_arm"


def test_without_an_onset_date_flail_arm_applies_provisionally_with_no_final_date():
    c = case(visit("2025-01-01", *FLAIL_ARM), visit("2027-01-01", *FLAIL_ARM), onset_date=None)
    p = ph(c)
    assert [x.label for x in p] == ["flail_arm", "flail_arm"]
    assert all(x.provisional and x.final_after is None for x in p)
    assert "onset date unknown" in p[0].reason


def test_without_an_onset_date_every_visit_counts_so_later_spread_ends_the_variant():
    c = case(visit("2025-01-01", *FLAIL_ARM), visit("2027-01-01", *FLAIL_ARM, wasted("tibialis_anterior", "left")),
             onset_date=None)
    assert [x.label for x in ph(c)] == ["flail_arm", "pma"]


# Rule 9: the predominant forms are Motorchart's own working definitions (clinical-rules 8.5).

def test_the_predominant_forms_say_they_are_motorcharts_working_definitions():
    p = ph(case(visit("2026-01-01", *UMN2, wasted("rectus_abdominis", "midline")), onset_date="2025-09-01"))[0]
    assert p.label == "umn_predominant" and WORKING in p.reason
    c = case(visit("2026-01-01", wasted("tongue", "midline"), wasted("tibialis_anterior", "left"), r("biceps")),
             onset_date="2024-09-01")
    p = ph(c)[0]
    assert p.label == "lmn_predominant" and WORKING in p.reason
    many = [wasted(x) for x in ("deltoid", "biceps", "triceps")]
    assert WORKING not in ph(case(visit("2026-01-01", *UMN2, *many), onset_date="2024-09-01"))[0].reason
