"""Progression and regional spread across visits (clinical-rules 6, 10)."""

from tests.builders import D, case, classify, emg_lmn, m, r, s, visit, wasted


def test_progressive_by_history_confirms_progression():
    vc = classify(case(visit("2025-03-01", r("biceps"), progressive=True))).visits[0]
    assert vc.progression and vc.criteria["el_escorial"].pending == ()


def test_history_flags_carry_forward_until_recorded_again():
    c = case(
        visit("2025-01-01", r("biceps"), wasted("biceps"), progressive=True, excluded=True),
        visit("2025-04-01", r("biceps"), wasted("biceps"), progressive=None, excluded=None),
        visit("2025-07-01", r("biceps"), wasted("biceps"), progressive=False, excluded=False),
    )
    v = classify(c).visits
    assert [x.progression for x in v] == [True, True, False]
    assert [x.alternatives_excluded for x in v] == [True, True, False]
    assert v[2].criteria["el_escorial"].pending == ("progression", "alternatives_excluded")


def test_a_region_newly_involved_after_a_normal_examination_shows_progression():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous"), m("tibialis_anterior", "left", "5", "none"), progressive=None),
        visit("2025-04-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left"), progressive=None),
    )
    v = classify(c).visits
    assert not v[0].progression
    assert v[1].progression
    assert "Lumbosacral newly involved (examined without UMN or LMN evidence on 2025-01-01)." in [
        x.text for x in v[1].progression_reasons]


def test_a_region_not_examined_before_does_not_show_progression():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous"), progressive=None),
        visit("2025-04-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left"), progressive=None),
    )
    assert not classify(c).visits[1].progression


def test_an_mrc_fall_on_the_ordinal_scale_in_an_involved_region_shows_progression():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous", mrc="4"), progressive=None),
        visit("2025-04-01", wasted("first_dorsal_interosseous", mrc="4-"), progressive=None),
    )
    v = classify(c).visits[1]
    assert v.progression
    assert "First dorsal interosseous R MRC fell from 4 (2025-01-01) to 4-." in [x.text for x in v.progression_reasons]


def test_an_mrc_fall_outside_an_involved_region_does_not_count():
    c = case(
        visit("2025-01-01", m("deltoid", "right", "5"), progressive=None),
        visit("2025-04-01", m("deltoid", "right", "4"), progressive=None),
    )
    assert not classify(c).visits[1].progression


def test_a_muscle_newly_abnormal_within_an_involved_region_shows_progression():
    c = case(
        visit("2025-01-01", r("biceps", grade=4), m("deltoid", "right", "5", "none"), progressive=None),
        visit("2025-04-01", r("biceps", grade=4), m("deltoid", "right", "4", "none"), progressive=None),
    )
    v = classify(c).visits[1]
    assert v.progression
    assert "Deltoid R newly abnormal (MRC 4; normal on 2025-01-01)." in [x.text for x in v.progression_reasons]


def test_progression_shown_across_visits_stays_confirmed():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous", mrc="4"), progressive=None),
        visit("2025-04-01", wasted("first_dorsal_interosseous", mrc="3"), progressive=None),
        visit("2025-07-01", wasted("first_dorsal_interosseous", mrc="3"), progressive=False),
    )
    assert [x.progression for x in classify(c).visits] == [False, True, True]


def test_other_cause_muscles_are_ignored_by_progression():
    c = case(
        visit("2025-01-01", r("biceps"), m("deltoid", "right", "5", other_cause=True), progressive=None),
        visit("2025-04-01", r("biceps"), m("deltoid", "right", "3", other_cause=True), progressive=None),
    )
    assert not classify(c).visits[1].progression


def test_spread_lists_involved_and_new_regions_never_counting_the_onset_region():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous")),
        visit("2025-04-01", wasted("first_dorsal_interosseous"), s("babinski", "left")),
        visit("2025-07-01", wasted("first_dorsal_interosseous"), s("babinski", "left"), emg_lmn("tongue", "midline")),
        onset_region="upper_limb",
    )
    v = classify(c).visits
    assert [x.new_regions for x in v] == [(), ("lumbosacral",), ("bulbar",)]
    assert v[2].regions_involved == ("bulbar", "cervical", "lumbosacral")


def test_generalised_onset_makes_no_region_new():
    c = case(visit("2025-01-01", s("babinski", "left"), wasted("tongue", "midline")), onset_region="generalised")
    assert classify(c).visits[0].new_regions == ()


def test_the_spread_timeline_gives_first_dates_order_and_contiguity():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous")),
        visit("2025-04-01", wasted("first_dorsal_interosseous"), r("biceps")),
        visit("2025-07-01", wasted("first_dorsal_interosseous"), s("babinski", "left")),
        onset_region="upper_limb",
    )
    res = classify(c)
    t = {x.region: x for x in res.timeline}
    assert t["cervical"].onset and t["cervical"].first_lmn == D("2025-01-01")
    assert t["cervical"].first_umn == D("2025-04-01") == t["cervical"].first_both
    assert t["lumbosacral"].first_umn == D("2025-07-01") and t["lumbosacral"].first_lmn is None
    assert t["lumbosacral"].contiguous is False  # thoracic lies between
    assert res.spread_order == ("cervical", "lumbosacral")
    j = res.as_json()["summary"]["spread"]
    assert j["onset_regions"] == ["cervical"] and j["regions"]["bulbar"]["first_involved"] is None


def test_the_summary_gives_the_highest_category_and_the_first_date_it_was_reached():
    c = case(
        visit("2025-01-01", r("biceps"), wasted("biceps")),
        visit("2025-04-01", s("snout", "midline"), wasted("first_dorsal_interosseous")),
        visit("2025-07-01", s("snout", "midline"), wasted("first_dorsal_interosseous")),
        visit("2025-10-01", r("biceps")),
    )
    h = classify(c).as_json()["summary"]["highest"]
    assert h["el_escorial"] == {"category": "probable", "date": "2025-04-01"}
    assert h["gold_coast"] == {"met": True, "date": "2025-01-01"}


def test_the_summary_date_is_null_when_nothing_was_reached():
    h = classify(case(visit("2025-01-01", m("deltoid", "right", "5")))).as_json()["summary"]["highest"]
    assert h["el_escorial"] == {"category": "not_met", "date": None}
    assert h["gold_coast"] == {"met": False, "date": None}


def test_a_case_with_no_visits_classifies_to_an_empty_history():
    res = classify(case())
    assert res.visits == () and res.as_json()["summary"]["highest"]["awaji"]["date"] is None


def test_an_evidence_cache_gives_the_same_result_and_recomputes_only_edited_visits():
    from domain.classify import EvidenceCache, classify_case
    from tests.builders import catalogue
    v1 = visit("2025-01-01", wasted("first_dorsal_interosseous", mrc="4"))
    v2 = visit("2025-04-01", wasted("first_dorsal_interosseous", mrc="4"), r("biceps"))
    cache = EvidenceCache()
    first = classify_case(case(v1, v2), catalogue(), cache=cache)
    edited = v2.model_copy(update={"muscles": (wasted("first_dorsal_interosseous", mrc="3"),)})
    second = classify_case(case(v1, edited), catalogue(), cache=cache)
    assert second.visits[0].evidence is first.visits[0].evidence  # reused
    assert second.as_json() == classify(case(v1, edited)).as_json()  # same answers as uncached
    assert second.visits[1].criteria["el_escorial"].category == "possible"


# Rule 7 of the clinical-rules revision (section 10, progression across visits).

def test_an_mrc_fall_in_a_region_involved_at_an_earlier_visit_counts_even_when_today_alone_would_not_involve_it():
    """Wasting recorded at the first visit, not today: the fall still counts (section 10)."""
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous", mrc="4"), progressive=None),
        visit("2025-04-01", m("first_dorsal_interosseous", "right", "3"), progressive=None),
    )
    v = classify(c).visits
    assert v[1].regions_involved == ()  # weakness alone is not clinical LMN (wasting_required)
    assert v[1].progression
    assert "First dorsal interosseous R MRC fell from 4 (2025-01-01) to 3." in [x.text for x in v[1].progression_reasons]


def test_a_muscle_newly_abnormal_in_a_region_involved_before_counts():
    c = case(
        visit("2025-01-01", r("biceps", grade=4), m("deltoid", "right", "5", "none"), progressive=None),
        visit("2025-04-01", r("biceps", grade=2), m("deltoid", "right", "4"), progressive=None),
    )
    v = classify(c).visits[1]
    assert v.regions_involved == () and v.progression
    assert "Deltoid R newly abnormal (MRC 4; normal on 2025-01-01)." in [x.text for x in v.progression_reasons]


def test_evidence_that_comes_back_after_a_normal_examination_is_not_spread():
    c = case(
        visit("2025-01-01", wasted("first_dorsal_interosseous"), s("babinski", "left"), progressive=None),
        visit("2025-04-01", wasted("first_dorsal_interosseous"), s("babinski", "left", False), progressive=None),
        visit("2025-07-01", wasted("first_dorsal_interosseous"), s("babinski", "left"), progressive=None),
        onset_region="upper_limb",
    )
    v = classify(c).visits
    assert [x.progression for x in v] == [False, False, False]
    assert [x.new_regions for x in v] == [("lumbosacral",), (), ()]


def test_becoming_abnormal_is_judged_against_the_previous_examination_for_what_it_recorded():
    """Pinned as it stands (rule 7): what was not examined then cannot be called new."""
    # Previous examination graded MRC only: new wasting is not "newly abnormal" (wasting was not
    # recorded then), but new weakness would be.
    c = case(
        visit("2025-01-01", wasted("biceps"), m("deltoid", "right", "5"), progressive=None),
        visit("2025-04-01", wasted("biceps"), m("deltoid", "right", "5", "moderate"), progressive=None),
    )
    assert not classify(c).visits[1].progression
    # Wasting recorded as none then, moderate now: newly abnormal (clinical LMN).
    c = case(
        visit("2025-01-01", wasted("biceps"), m("deltoid", "right", "5", "none"), progressive=None),
        visit("2025-04-01", wasted("biceps"), m("deltoid", "right", "5", "moderate"), progressive=None),
    )
    v = classify(c).visits[1]
    assert "Deltoid R newly abnormal (clinical LMN; normal on 2025-01-01)." in [x.text for x in v.progression_reasons]
    # EMG LMN where the muscle was not sampled before is not new; where it was sampled normal, it is.
    normal_emg = dict(fibrillations=0, positive_sharp_waves=0, fasciculation_potentials="absent",
                      mup_large=False, recruitment="normal")
    c = case(
        visit("2025-01-01", wasted("biceps"), m("deltoid", "right", "5", "none"), progressive=None),
        visit("2025-04-01", wasted("biceps"), emg_lmn("deltoid"), progressive=None),
    )
    assert not classify(c).visits[1].progression
    c = case(
        visit("2025-01-01", wasted("biceps"), emg_lmn("deltoid", **normal_emg), progressive=None),
        visit("2025-04-01", wasted("biceps"), emg_lmn("deltoid"), progressive=None),
    )
    v = classify(c).visits[1]
    assert "Deltoid R newly abnormal (EMG LMN; normal on 2025-01-01)." in [x.text for x in v.progression_reasons]
