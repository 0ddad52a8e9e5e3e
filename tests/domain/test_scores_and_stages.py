"""Scores and stages (clinical-rules 7, 10): ALSFRS-R, DeltaFS, King's, MiToS, MRC sum, UMN score."""

import pytest

from domain.scores import add_months, kings_from_alsfrs
from tests.builders import D, alsfrs, case, classify, m, r, s, visit, wasted


def v1(date="2025-03-01", *f, **kw):
    return visit(date, *f, **kw)


def test_alsfrs_r_total_and_subscores():
    a = alsfrs(speech=3, handwriting=2, walking=1, dyspnea=2)
    vc = classify(case(v1("2025-03-01", alsfrs_r=a))).visits[0]
    assert vc.alsfrs_r == {"total": 40, "bulbar": 11, "fine_motor": 10, "gross_motor": 9, "respiratory": 10}


def test_delta_fs_is_points_lost_per_month_since_onset():
    # onset 2024-09-01 to 2025-03-01 = 181 days = 5.9466 months; 48-44 = 4 points.
    vc = classify(case(v1("2025-03-01", alsfrs_r=alsfrs(handwriting=2, cutting_food=2)))).visits[0]
    assert vc.delta_fs == pytest.approx(4 / (181 / 30.4375))


def test_delta_fs_is_null_on_the_onset_date_without_onset_or_without_alsfrs():
    assert classify(case(v1("2024-09-01", alsfrs_r=alsfrs()))).visits[0].delta_fs is None
    assert classify(case(v1("2025-03-01", alsfrs_r=alsfrs()), onset_date=None)).visits[0].delta_fs is None
    assert classify(case(v1("2025-03-01"))).visits[0].delta_fs is None


def test_the_slope_is_between_visits_with_alsfrs_r_and_null_at_the_first():
    c = case(v1("2025-01-01", alsfrs_r=alsfrs()), v1("2025-03-01"), v1("2025-07-01", alsfrs_r=alsfrs(walking=0, speech=2)))
    v = classify(c).visits
    assert v[0].alsfrs_r_slope is None and v[1].alsfrs_r_slope is None
    assert v[2].alsfrs_r_slope == pytest.approx(6 / (181 / 30.4375))


@pytest.mark.parametrize("items,stage", [
    (dict(), "1"),
    (dict(speech=3), "1"),
    (dict(speech=3, handwriting=3), "2"),
    (dict(salivation=2, cutting_food=3, walking=3), "3"),
    (dict(gastrostomy=True), "4A"),
    (dict(dyspnea=0), "4B"),
    (dict(respiratory_insufficiency=3), "4B"),
    (dict(gastrostomy=True, respiratory_insufficiency=2), "4A+4B"),
    (dict(climbing_stairs=1), "1"),
])
def test_kings_stage_from_alsfrs_r(items, stage):
    assert kings_from_alsfrs(alsfrs(**items)) == stage


def test_kings_from_alsfrs_is_null_without_alsfrs_and_may_go_down():
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(speech=3, walking=3)), v1("2025-04-01"), v1("2025-07-01", alsfrs_r=alsfrs()))
    assert [x.kings_alsfrs for x in classify(c).visits] == ["2", None, "1"]


def test_kings_clinical_starts_at_1_in_the_onset_region_and_2A_at_diagnosis():
    c = case(v1("2025-01-01"), v1("2025-04-01"), diagnosis_date="2025-03-01")
    assert [x.kings_clinical for x in classify(c).visits] == ["1", "2A"]


def test_kings_clinical_counts_regions_from_weakness_wasting_spasticity_and_alsfrs():
    c = case(
        v1("2025-01-01", m("deltoid", "right", "4")),
        v1("2025-04-01", s("leg_spasticity", "left")),
        v1("2025-07-01", alsfrs_r=alsfrs(swallowing=3)),
        onset_region="upper_limb",
    )
    v = classify(c).visits
    assert [x.kings_clinical for x in v] == ["1", "2B", "3"]
    assert v[2].kings_regions == ("bulbar", "upper_limb", "lower_limb")


@pytest.mark.parametrize("finding", [
    r("jaw", "midline", 4), s("snout", "midline"), s("babinski", "left"), s("hoffmann", "left"),
    s("ankle_clonus", "left"), s("patellar_clonus", "right"), r("knee", "left", 4),
    s("crossed_adductor", "left"), s("pseudobulbar_affect", "midline"), s("gag_brisk", "midline"),
])
def test_reflexes_and_pathological_signs_alone_never_involve_a_kings_region(finding):
    """KING (Roche 2012; clinical-rules 7, revised): functional involvement only."""
    vc = classify(case(v1("2025-01-01", finding), onset_region="upper_limb")).visits[0]
    assert vc.kings_clinical == "1" and vc.kings_regions == ("upper_limb",)


def test_an_arm_onset_patient_with_brisk_jaw_jerk_and_babinski_is_kings_1():
    vc = classify(case(v1("2025-01-01", wasted("first_dorsal_interosseous"), r("jaw", "midline", 4),
                          s("babinski", "left"), r("knee", "right", 4)))).visits[0]
    assert vc.kings_clinical == "1"


@pytest.mark.parametrize("sign,side,region", [
    ("spastic_dysarthria", "midline", "bulbar"), ("tongue_slowed", "midline", "bulbar"),
    ("arm_spasticity", "left", "upper_limb"), ("leg_spasticity", "right", "lower_limb"),
])
def test_a_spasticity_sign_involves_its_kings_region(sign, side, region):
    vc = classify(case(v1("2025-01-01", s(sign, side)), onset_region="respiratory")).visits[0]
    assert vc.kings_regions == tuple(sorted({"diaphragm", region}, key=["bulbar", "upper_limb", "lower_limb", "diaphragm"].index))
    assert vc.kings_clinical == "2B"


@pytest.mark.parametrize("items,region", [
    (dict(salivation=3), "bulbar"), (dict(cutting_food=3), "upper_limb"), (dict(walking=3), "lower_limb"),
    (dict(orthopnea=3), "diaphragm"),
])
def test_alsfrs_r_items_below_4_involve_their_kings_region(items, region):
    vc = classify(case(v1("2025-01-01", alsfrs_r=alsfrs(**items)), onset_region="trunk_axial")).visits[0]
    assert vc.kings_regions == (region,)


def test_alsfrs_r_item_5b_at_this_or_an_earlier_visit_is_kings_4A():
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(gastrostomy=True)), v1("2025-04-01"),
             v1("2025-07-01", alsfrs_r=alsfrs()), gastrostomy_date="2024-12-01")
    assert [x.kings_clinical for x in classify(c).visits] == ["4A", "4A", "4A"]
    # Without a date the ALSFRS-R still records it, and the visit says the date is missing.
    c = case(v1("2025-01-01"), v1("2025-04-01", alsfrs_r=alsfrs(gastrostomy=True)), v1("2025-07-01"))
    v = classify(c).visits
    assert [x.kings_clinical for x in v] == ["1", "4A", "4A"]
    assert v[1].warnings == ("ALSFRS-R item 5b records a gastrostomy; no gastrostomy date is recorded.",)
    assert v[0].warnings == () and v[2].warnings == ()


@pytest.mark.parametrize("ri,stage", [(4, "1"), (3, "4B"), (2, "4B"), (0, "4B")])
def test_alsfrs_r_respiratory_insufficiency_3_or_less_is_kings_4B(ri, stage):
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(respiratory_insufficiency=ri)), v1("2025-04-01", alsfrs_r=alsfrs()),
             onset_region="bulbar")
    assert [x.kings_clinical for x in classify(c).visits] == [stage, stage]


def test_gastrostomy_from_alsfrs_and_niv_from_its_date_are_4A_plus_4B():
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(gastrostomy=True)), niv_date="2024-12-01", gastrostomy_date="2024-11-01")
    assert classify(c).visits[0].kings_clinical == "4A+4B"


def test_a_tracheostomy_date_reached_is_kings_4B():
    c = case(v1("2025-01-01"), v1("2025-04-01"), tracheostomy_date="2025-02-01")
    assert [x.kings_clinical for x in classify(c).visits] == ["1", "4B"]


def test_milestone_warnings_name_a_missing_or_contradicted_date():
    """clinical-rules 10: the ALSFRS-R records a milestone with no date, or contradicts one."""
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(gastrostomy=True)), v1("2025-04-01", alsfrs_r=alsfrs()),
             v1("2025-07-01", alsfrs_r=alsfrs(gastrostomy=True)), gastrostomy_date="2025-03-01")
    w = [x.warnings for x in classify(c).visits]
    assert w[0] == ("ALSFRS-R item 5b records a gastrostomy on 2025-01-01, before the gastrostomy date 2025-03-01.",)
    assert w[1] == ("ALSFRS-R item 5a (no gastrostomy) is scored on 2025-04-01, after the gastrostomy date 2025-03-01.",)
    assert w[2] == ()
    assert classify(c).as_json()["visits"][1]["warnings"] == list(w[1])


def test_item_5a_after_a_refused_gastrostomy_is_no_contradiction():
    c = case(v1("2025-04-01", alsfrs_r=alsfrs()), gastrostomy_date="2025-03-01", gastrostomy_note="Gastrostomy refused")
    vc = classify(c).visits[0]
    assert vc.warnings == () and vc.kings_clinical == "4A"


def test_ventilation_in_the_alsfrs_r_without_an_niv_date_is_warned():
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(respiratory_insufficiency=3)),
             v1("2025-04-01", alsfrs_r=alsfrs(respiratory_insufficiency=2)), niv_date="2025-02-01")
    v = classify(c).visits
    assert v[0].warnings == ("ALSFRS-R respiratory insufficiency 3 records ventilatory support on 2025-01-01, "
                             "before the NIV date 2025-02-01.",)
    assert v[1].warnings == ()
    vc = classify(case(v1("2025-01-01", alsfrs_r=alsfrs(respiratory_insufficiency=1)))).visits[0]
    assert vc.warnings == ("ALSFRS-R respiratory insufficiency 1 records ventilatory support; no NIV date is recorded.",)
    vc = classify(case(v1("2025-01-01", alsfrs_r=alsfrs(respiratory_insufficiency=0)),
                       tracheostomy_date="2024-12-01")).visits[0]
    assert vc.warnings == ()
    # A tracheostomy still to come does not explain ventilation today (found by the oracle).
    vc = classify(case(v1("2025-03-01", alsfrs_r=alsfrs(respiratory_insufficiency=3)),
                       tracheostomy_date="2026-01-01")).visits[0]
    assert vc.warnings == ("ALSFRS-R respiratory insufficiency 3 records ventilatory support; no NIV date is recorded.",)


def test_a_visit_with_nothing_to_say_has_no_warnings():
    assert classify(case(v1("2025-01-01", alsfrs_r=alsfrs()))).as_json()["visits"][0]["warnings"] == []


def test_respiratory_onset_involves_the_diaphragm_and_trunk_onset_none():
    assert classify(case(v1("2025-01-01"), onset_region="respiratory")).visits[0].kings_regions == ("diaphragm",)
    assert classify(case(v1("2025-01-01"), onset_region="trunk_axial")).visits[0].kings_regions == ()


def test_kings_clinical_milestones_count_from_their_dates_and_never_go_down():
    c = case(
        v1("2025-01-01"), v1("2025-04-01"), v1("2025-07-01"), v1("2025-10-01"),
        gastrostomy_date="2025-03-01", niv_date="2025-06-01", death_date="2025-10-01",
    )
    assert [x.kings_clinical for x in classify(c).visits] == ["1", "4A", "4A+4B", "5"]


def test_other_cause_weakness_does_not_involve_a_kings_region():
    c = case(v1("2025-01-01", m("tibialis_anterior", "left", "3", other_cause=True)), onset_region="upper_limb")
    assert classify(c).visits[0].kings_clinical == "1"


@pytest.mark.parametrize("items,n", [
    (dict(walking=1), 1), (dict(dressing_hygiene=0), 1), (dict(swallowing=1), 1),
    (dict(speech=1), 0), (dict(speech=1, handwriting=1), 1), (dict(dyspnea=1), 1),
    (dict(respiratory_insufficiency=2), 1), (dict(walking=0, swallowing=0, speech=0, handwriting=0, dyspnea=0), 4),
])
def test_mitos_counts_lost_domains(items, n):
    assert classify(case(v1("2025-01-01", alsfrs_r=alsfrs(**items)))).visits[0].mitos == n


def test_mitos_is_null_without_alsfrs_a_running_maximum_and_5_at_death():
    c = case(v1("2025-01-01", alsfrs_r=alsfrs(walking=1)), v1("2025-04-01"),
             v1("2025-07-01", alsfrs_r=alsfrs()), v1("2025-10-01"), death_date="2025-10-01")
    assert [x.mitos for x in classify(c).visits] == [1, None, 1, 5]


MRC_SUM = ["deltoid", "biceps", "extensor_carpi_radialis", "iliopsoas", "quadriceps", "tibialis_anterior"]


def test_mrc_sum_drops_modifiers_and_needs_all_twelve():
    fs = [m(x, side, "4-" if x == "deltoid" else "5") for x in MRC_SUM for side in ("left", "right")]
    assert classify(case(v1("2025-01-01", *fs))).visits[0].mrc_sum == 58
    assert classify(case(v1("2025-01-01", *fs[:-1]))).visits[0].mrc_sum is None


def test_mrc_sum_counts_other_cause_muscles():
    fs = [m(x, side, "5", other_cause=(x == "biceps")) for x in MRC_SUM for side in ("left", "right")]
    assert classify(case(v1("2025-01-01", *fs))).visits[0].mrc_sum == 60


def test_umn_score_counts_brisk_items_among_those_examined():
    vc = classify(case(v1("2025-01-01", r("biceps", "left", 4), r("knee", "right", 3, True), r("knee", "left", 3),
                          r("pectoral", "left", 4), s("babinski", "left"), s("snout", "midline", False),
                          r("jaw", "midline", 4)))).visits[0]
    assert vc.umn_score == 4  # biceps L, knee R (spread), Babinski L, jaw; pectoral is not an item


def test_umn_score_is_null_when_none_of_the_items_was_examined():
    assert classify(case(v1("2025-01-01", r("pectoral", "left", 4), wasted("deltoid")))).visits[0].umn_score is None


def test_calendar_months_map_29_february_to_28_february():
    assert add_months(D("2024-03-15"), 12) == D("2025-03-15")
    assert add_months(D("2024-02-29"), 12) == D("2025-02-28")
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
