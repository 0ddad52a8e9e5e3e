"""The classifier is a fold over the visits with one tracker per concern (issue 16): each
tracker is fed visit after visit and answers for that visit. These tests drive each one
directly, through its small interface, with the rule it implements (clinical-rules 6, 7, 10)."""

from domain.classify import (
    KingsClinicalTracker, MitosTracker, ProgressionTracker, SlopeTracker, SpreadTracker,
)
from domain.evidence import visit_evidence
from domain.options import Options
from tests.builders import D, alsfrs, case, catalogue, r, visit, wasted

CAT = catalogue()
OPT = Options()


def ev(v):
    return visit_evidence(v, CAT, OPT)


def test_slope_is_the_fall_per_month_since_the_previous_visit_with_an_alsfrs_r():
    """clinical-rules 10: (previous total - this total) / months, positive = decline; null at the
    first scored visit and at a visit without ALSFRS-R, which the next slope skips over."""
    t = SlopeTracker()
    assert t.add(visit("2025-01-01", alsfrs_r=alsfrs())) is None  # 48, the first
    assert t.add(visit("2025-02-01")) is None  # no ALSFRS-R
    slope = t.add(visit("2025-04-02", alsfrs_r=alsfrs(walking=1, speech=1)))  # 42, 91 days later
    assert abs(slope - 6 / (91 / 30.4375)) < 1e-9


def test_mitos_is_the_running_maximum_of_lost_domains_and_5_at_death():
    p = case(death_date="2026-01-01").patient
    t = MitosTracker(p)
    assert t.add(visit("2025-01-01")) is None  # no ALSFRS-R: no stage
    assert t.add(visit("2025-02-01", alsfrs_r=alsfrs(walking=1))) == 1  # movement lost
    assert t.add(visit("2025-03-01", alsfrs_r=alsfrs())) == 1  # never goes down
    assert t.add(visit("2026-01-01", alsfrs_r=alsfrs())) == 5


def test_spread_names_regions_newly_involved_never_the_onset_region():
    t = SpreadTracker({"cervical"})
    assert t.add({"cervical"}) == ()
    assert t.add({"cervical", "lumbosacral"}) == ("lumbosacral",)
    assert t.add({"lumbosacral"}) == ()  # already involved before
    assert t.add({"bulbar", "lumbosacral"}) == ("bulbar",)


def test_kings_clinical_counts_regions_from_the_onset_and_never_goes_down():
    p = case(onset_region="upper_limb", diagnosis_date="2025-01-01").patient
    t = KingsClinicalTracker(p, CAT)
    v1 = visit("2025-02-01")
    assert t.add(v1, ev(v1)) == ("2A", ("upper_limb",))  # the onset region, diagnosed
    v2 = visit("2025-05-01", wasted("tibialis_anterior", "left"))
    assert t.add(v2, ev(v2)) == ("2B", ("upper_limb", "lower_limb"))
    v3 = visit("2025-08-01")  # nothing recorded: the regions stay involved
    assert t.add(v3, ev(v3))[0] == "2B"
    v4 = visit("2025-09-01", alsfrs_r=alsfrs(gastrostomy=True, cutting_food=2))  # item 5b
    assert t.add(v4, ev(v4))[0] == "4A"


def test_progression_is_the_history_flag_or_findings_shown_across_visits_which_stays_confirmed():
    t = ProgressionTracker(OPT)
    v1 = visit("2025-01-01", wasted("first_dorsal_interosseous"), r("knee", "left", 2), progressive=None)
    confirmed, reasons = t.add(v1, ev(v1), ev(v1).involved(), None)
    assert confirmed is False and reasons == ()
    v2 = visit("2025-04-01", wasted("first_dorsal_interosseous"), wasted("tibialis_anterior", "left"),
               progressive=None)
    confirmed, reasons = t.add(v2, ev(v2), ev(v2).involved(), None)
    assert confirmed is True
    assert any("Lumbosacral newly involved" in x.text for x in reasons)
    v3 = visit("2025-07-01", progressive=None)
    confirmed, reasons = t.add(v3, ev(v3), ev(v3).involved(), None)
    assert confirmed is True and reasons[0].text == "Progression shown at an earlier visit."
    t2 = ProgressionTracker(OPT)
    confirmed, reasons = t2.add(v3, ev(v3), set(), True)
    assert confirmed is True and reasons[0].text.startswith("Progressive by history")
