"""Differential test: the program against the clean-room oracle (``tests/domain/oracle.py``).

Pytest: a hypothesis property over random multi-visit cases and random options.
Script:  ``python -m tests.domain.test_oracle N [SEED]`` compares N random cases and prints a
tally of disagreements by field, each with one shrunk (minimal) example case as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
import sys
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.case import MRC_GRADES, Case, case_to_data
from domain.classify import classify_case
from domain.options import Options
from tests.builders import catalogue
from tests.domain.oracle import catalogue as oracle_catalogue
from tests.domain.oracle import DEFAULT_OPTIONS, FRAMEWORKS, MRC_SUM_MUSCLES, REGIONS, add_months, oracle

CAT = catalogue()
BILATERAL = ("bulbar", "thoracic")
MUSCLE_SLOTS = [(mu.id, side) for mu in CAT.muscles
                for side in (("left", "right", "midline") if mu.region in BILATERAL else ("left", "right"))]
REFLEX_SLOTS = [(x.id, side) for x in CAT.reflexes for side in x.sides]
SIGN_SLOTS = [(x.id, side) for x in CAT.signs for side in x.sides]
# Muscles that make the EMG region rule and the scores interesting, drawn more often.
FAVOURED = ("first_dorsal_interosseous", "abductor_pollicis_brevis", "biceps", "triceps", "deltoid",
            "extensor_digitorum", "tibialis_anterior", "gastrocnemius", "tibialis_posterior",
            "extensor_hallucis_longus", "quadriceps", "iliopsoas", "tongue", "masseter",
            "thoracic_paraspinals_lower", "rectus_abdominis", "cervical_paraspinals",
            "lumbosacral_paraspinals", "sternocleidomastoid", "trapezius", "brachioradialis",
            "flexor_digitorum_superficialis", "adductor_longus", "extensor_carpi_radialis",
            "diaphragm", "soleus")
FAVOURED_SLOTS = [sl for sl in MUSCLE_SLOTS if sl[0] in FAVOURED]
OPTION_VALUES = {
    "scm_region": ["cervical", "bulbar"],
    "abdominal_reflexes_umn": [False, True],
    "preserved_reflex_min_grade": [0, 1, 2, 3, 4],
    "preserved_reflex_max_mrc": list(MRC_GRADES),
    "preserved_reflex_min_wasting": ["mild", "moderate", "severe"],
    "clinical_lmn_rule": ["wasting_required", "weakness_or_wasting", "weakness_and_wasting"],
    "root_rule": ["no_shared_principal", "principal_differs", "disjoint"],
    "probable_reading": ["distributed", "colocated"],
    "gcc_reading": ["literal", "same_region"],
}
ONSETS = ["bulbar", "upper_limb", "lower_limb", "trunk_axial", "respiratory", "generalised"]
ITEMS = ("speech", "salivation", "swallowing", "handwriting", "cutting_food", "dressing_hygiene",
         "turning_in_bed", "walking", "climbing_stairs", "dyspnea", "orthopnea", "respiratory_insufficiency")



# KNOWN DISAGREEMENT: (generic field path regex, predicate(case, visit index, program value,
# oracle value) -> the disagreement is this known one, why). Skipped in the pytest property only;
# the script mode still counts them (marked [KNOWN]).
KNOWN: list[tuple[str, object, str]] = []  # none: the last one (a warning) was fixed


# ------------------------------------------------------------------ random choices

class RandomChooser:
    """Choices from a ``random.Random`` (script mode) or hypothesis' ``st.randoms()`` (pytest)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def int(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def p(self, prob: float) -> bool:
        return self.rng.random() < prob

    def choice(self, seq):
        return seq[self.rng.randrange(len(seq))]


# ------------------------------------------------------------------ case generator

def _maybe(c, prob, make):
    return make() if c.p(prob) else None


def gen_emg(c) -> dict:
    e = {}
    if c.p(0.8):
        e["fibrillations"] = c.choice([0, 1, 1, 2, 3, 4])
    if c.p(0.6):
        e["positive_sharp_waves"] = c.choice([0, 1, 2, 3, 4])
    if c.p(0.7):
        e["fasciculation_potentials"] = c.choice(["absent", "present", "complex"])
    if c.p(0.8):
        e["mup_large"] = c.p(0.7)
    if c.p(0.5):
        e["mup_unstable"] = c.p(0.5)
    if c.p(0.6):
        e["recruitment"] = c.choice(["normal", "reduced", "reduced", "early", "absent"])
    if c.p(0.05):
        e["study_date"] = "2020-01-01"  # an earlier study carried forward: not a finding of its own
    return e


WEAKISH = ["5", "5", "5-", "4+", "4", "4", "4-", "3+", "3", "3-", "2+", "2", "2-", "1", "0"]


def gen_muscle(c, slot, normal: bool = False) -> dict:
    """One muscle finding; ``normal`` biases it to a normal (or unexamined) muscle."""
    f = {"muscle": slot[0], "side": slot[1]}
    if c.p(0.95 if slot[0] in MRC_SUM_MUSCLES else 0.75):
        f["mrc"] = "5" if normal and c.p(0.85) else c.choice(WEAKISH)
    if c.p(0.7):
        f["wasting"] = "none" if normal and c.p(0.85) else c.choice(["none", "none", "mild", "moderate", "severe"])
    if c.p(0.3):
        f["fasciculations"] = c.p(0.6)
    if c.p(0.08):
        f["other_cause"] = True
    if c.p(0.45):
        f["emg"] = {} if normal and c.p(0.8) else gen_emg(c)
    return f


def gen_visit(c, date: dt.date, pools, scenario: str) -> dict:
    mpool, rpool, spool = pools
    v: dict = {"date": date.isoformat()}
    if c.p(0.35):
        v["progressive_by_history"] = c.p(0.6)
    if c.p(0.6):
        v["alternatives_excluded"] = c.p(0.6)
    slots = []
    for sl in mpool:
        if c.p(0.7):
            slots.append(sl)
    for _ in range(c.int(0, 3) if scenario == "random" else c.choice([0, 0, 0, 1])):
        sl = c.choice(MUSCLE_SLOTS)
        if sl not in slots:
            slots.append(sl)
    if c.p(0.12):  # every MRC-sum movement graded (the sum is shown only then)
        for mid in MRC_SUM_MUSCLES:
            for side in ("left", "right"):
                if (mid, side) not in slots:
                    slots.append((mid, side))
    inside = set(mpool) if scenario in ("flail_arm", "flail_leg", "pbp") else None
    v["muscles"] = [gen_muscle(c, sl, normal=(scenario == "pls" or (inside is not None and sl not in inside)))
                    for sl in slots]
    v["reflexes"] = [{"reflex": a, "side": b, "grade": c.choice([0, 1, 2, 2, 3, 3, 4, 4]),
                      "spread": c.p(0.3)} for a, b in rpool if c.p(0.7)]
    v["signs"] = [{"sign": a, "side": b, "present": c.p(0.6)} for a, b in spool if c.p(0.7)]
    if c.p(0.1):
        v["fvc_percent"] = c.choice([35, 80.5, 110])
        v["weight_kg"] = c.choice([50, 71.5])
        v["notes"] = "n"
    if c.p(0.55):
        keep = c.choice([0.5, 0.8, 0.95, 1.0])
        a = {k: (4 if c.p(keep) else c.int(0, 3)) for k in ITEMS}
        a["gastrostomy"] = c.p(0.12)
        v["alsfrs_r"] = a
    return v


ARM_SLOTS = [sl for sl in MUSCLE_SLOTS if oracle_catalogue()["muscles"][sl[0]]["limb"] == "arm"]
PROXIMAL_ARM = ("deltoid", "biceps", "triceps", "supraspinatus", "infraspinatus", "brachioradialis",
                "rhomboids", "serratus_anterior", "pectoralis_major")
LEG_SLOTS = [sl for sl in MUSCLE_SLOTS if sl[0] in (
    "tibialis_anterior", "gastrocnemius", "soleus", "extensor_hallucis_longus", "tibialis_posterior",
    "peroneus_longus", "abductor_hallucis", "quadriceps", "iliopsoas", "gluteus_medius",
    "biceps_femoris_short", "extensor_digitorum_brevis")]
BULBAR_SLOTS = [sl for sl in MUSCLE_SLOTS if CAT.muscle[sl[0]].region == "bulbar"]
SCENARIOS = ["random"] * 5 + ["flail_arm", "flail_leg", "pbp", "pls", "pma"]


def gen_case(c) -> dict:
    scenario = c.choice(SCENARIOS)
    onset = None
    if c.p(0.75 if scenario == "random" else 0.88):
        onset = dt.date(2018, 1, 1) + dt.timedelta(days=c.int(0, 2600))
        if c.p(0.05):
            onset = dt.date(c.choice([2016, 2020]), 2, 29)
    base = onset or dt.date(2023, 1, 1)
    n = c.choice([0, 1, 1, 2, 2, 2, 3, 3, 4, 6])
    hi = 1900 if scenario in ("random", "pls", "pma") else 700
    offsets = sorted({c.int(-60, hi) for _ in range(n)})
    if offsets and onset and c.p(0.1):
        offsets = sorted(set([0] + offsets[1:]))  # a visit on the onset date
    if onset and c.p(0.15) and offsets:
        # a visit exactly 12 or 24 or 48 calendar months after onset
        k = c.choice([12, 24, 48])
        d = (add_months(onset, k) - base).days
        if d not in offsets:
            offsets = sorted(offsets + [d])
    dates = [base + dt.timedelta(days=o) for o in offsets]
    patient: dict = {"id": "R-1"}
    first = min(dates + [base])
    if c.p(0.85):
        age = c.choice([10, 20, 24, 25, 26, 40, 60, 75])
        patient["birth_date"] = (first - dt.timedelta(days=int(age * 365.25) + c.int(-200, 200))).isoformat()
        if onset and c.p(0.1):  # 25th birthday exactly at onset
            patient["birth_date"] = dt.date(onset.year - 25, onset.month, min(onset.day, 28)).isoformat()
    if onset:
        patient["onset_date"] = onset.isoformat()
    if c.p(0.85):
        patient["onset_region"] = c.choice(ONSETS)
    last = max(dates + [base])

    def some_date():
        return (base + dt.timedelta(days=c.int(-30, 1900))).isoformat()

    for k, prob in (("diagnosis_date", 0.5), ("gastrostomy_date", 0.2), ("niv_date", 0.2),
                    ("tracheostomy_date", 0.08)):
        if c.p(prob):
            patient[k] = some_date()
            if k != "diagnosis_date" and c.p(0.2):
                patient[k.replace("_date", "_note")] = "refused"
    if c.p(0.1):
        patient["death_date"] = (last + dt.timedelta(days=c.choice([0, 0, 30, 400]))).isoformat()
    if "birth_date" in patient:
        b = dt.date.fromisoformat(patient["birth_date"])
        for k in ("onset_date", "diagnosis_date", "gastrostomy_date", "niv_date", "tracheostomy_date"):
            if k in patient and dt.date.fromisoformat(patient[k]) < b:
                del patient[k]
    k = c.int(0, 9)
    if scenario == "flail_arm":
        src = [sl for sl in ARM_SLOTS if sl[0] in PROXIMAL_ARM] if c.p(0.7) else ARM_SLOTS
        mpool = {c.choice(src) for _ in range(k)}
    elif scenario == "flail_leg":
        mpool = {c.choice(LEG_SLOTS) for _ in range(k)}
    elif scenario == "pbp":
        mpool = {c.choice(BULBAR_SLOTS) for _ in range(k)}
    else:
        mpool = {c.choice(FAVOURED_SLOTS if c.p(0.75) else MUSCLE_SLOTS) for _ in range(k)}
    mpool = sorted(mpool)
    nr = c.int(0, 5) if scenario != "pma" else c.choice([0, 0, 1])
    rpool = sorted({c.choice(REFLEX_SLOTS) for _ in range(nr)})
    ns = c.int(0, 4) if scenario != "pma" else c.choice([0, 0, 1])
    spool = sorted({c.choice(SIGN_SLOTS) for _ in range(ns)})
    visits = [gen_visit(c, d, (mpool, rpool, spool), scenario) for d in dates]
    return {"format": "motorchart-case/1", "patient": patient, "visits": visits}


def gen_options(c) -> dict:
    if c.p(0.25):
        return dict(DEFAULT_OPTIONS)
    return {k: (DEFAULT_OPTIONS[k] if c.p(0.4) else c.choice(vals)) for k, vals in OPTION_VALUES.items()}


def to_case(data: dict) -> Case:
    return Case.model_validate(data, context={"catalogue": CAT})


# ------------------------------------------------------------------ the program's fields

def program_fields(case: Case, opts: dict) -> list[dict]:
    out = classify_case(case, CAT, Options(**opts)).as_json()
    rows = []
    for v in out["visits"]:
        row = {"date": v["date"]}
        for reg in REGIONS:
            x = v["regions"][reg]
            for k in ("examined", "umn", "umn_gold_coast", "lmn_clinical"):
                row[f"regions.{reg}.{k}"] = x[k]
            for fw in FRAMEWORKS:
                row[f"regions.{reg}.lmn_emg.{fw}"] = x["lmn_emg"][fw]
                row[f"regions.{reg}.lmn.{fw}"] = x["lmn"][fw]
        row["not_examined"] = list(v["not_examined"])
        for mu in v["muscles"]:
            k = f"muscles.{mu['muscle']}.{mu['side']}"
            for f in ("lmn_clinical", "lmn_clinical_gold_coast", "umn", "mixed"):
                row[f"{k}.{f}"] = mu[f]
            for fw in FRAMEWORKS:
                row[f"{k}.lmn_emg.{fw}"] = mu["lmn_emg"][fw]
        for fw in ("el_escorial", "awaji"):
            row[f"criteria.{fw}.category"] = v["criteria"][fw]["category"]
            row[f"criteria.{fw}.pending"] = sorted(v["criteria"][fw]["pending"])
        g = v["criteria"]["gold_coast"]
        for k in ("met", "progressive", "umn_lmn", "alternatives_excluded"):
            row[f"criteria.gold_coast.{k}"] = g[k]
        row["progression.confirmed"] = v["progression"]["confirmed"]
        if v["alsfrs_r"] is None:
            row["alsfrs_r"] = None
        else:
            for k, val in v["alsfrs_r"].items():
                row[f"alsfrs_r.{k}"] = val
        row["delta_fs"] = v["delta_fs"]
        row["alsfrs_r_slope"] = v["alsfrs_r_slope"]
        for k in ("kings_alsfrs", "kings_clinical", "mitos"):
            row[f"staging.{k}"] = v["staging"][k]
        row["warnings.kinds"] = sorted(warning_kind(w) for w in v["warnings"])
        row["mrc_sum"] = v["mrc_sum"]
        row["umn_score"] = v["umn_score"]
        row["spread.regions_involved"] = list(v["spread"]["regions_involved"])
        row["spread.new_regions"] = list(v["spread"]["new_regions"])
        for k in ("label", "provisional", "final_after"):
            row[f"phenotype.{k}"] = v["phenotype"][k]
        rows.append(row)
    summ = {}
    for fw in ("el_escorial", "awaji"):
        summ[f"summary.highest.{fw}.category"] = out["summary"]["highest"][fw]["category"]
        summ[f"summary.highest.{fw}.date"] = out["summary"]["highest"][fw]["date"]
    summ["summary.highest.gold_coast.met"] = out["summary"]["highest"]["gold_coast"]["met"]
    summ["summary.highest.gold_coast.date"] = out["summary"]["highest"]["gold_coast"]["date"]
    sp = out["summary"]["spread"]
    summ["summary.spread.onset_regions"] = list(sp["onset_regions"])
    summ["summary.spread.order"] = list(sp["order"])
    for reg in REGIONS:
        for k, val in sp["regions"][reg].items():
            summ[f"summary.spread.regions.{reg}.{k}"] = val
    return rows + [summ]


_WARNING_KINDS = (  # the program's sentences, recognised by their wording
    (r"records a gastrostomy; no gastrostomy date", "gastrostomy_undated"),
    (r"records a gastrostomy on .* before the gastrostomy date", "5b_before_gastrostomy_date"),
    (r"\(no gastrostomy\) is scored on .* after the gastrostomy date", "5a_after_gastrostomy_date"),
    (r"ventilatory support; no NIV date", "niv_undated"),
    (r"ventilatory support on .* before the NIV date", "niv_before_niv_date"),
)


def warning_kind(sentence: str) -> str:
    for rx, kind in _WARNING_KINDS:
        if re.search(rx, sentence):
            return kind
    return "other: " + sentence


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


_MUSCLE_RE = re.compile(r"^muscles\.[a-z0-9_]+\.(left|right|midline)\.")
_REGION_RE = re.compile(r"^((?:summary\.spread\.)?regions)\.(bulbar|cervical|thoracic|lumbosacral)\.")


def generic(path: str) -> str:
    path = _MUSCLE_RE.sub("muscles.*.", path)
    return _REGION_RE.sub(r"\1.*.", path)


def compare(case: Case, opts: dict) -> list[tuple[int, str, object, object]]:
    """[(visit index, field path, program value, oracle value)] for every disagreement."""
    prog = program_fields(case, opts)
    orc = oracle(case, opts)
    assert len(prog) == len(orc)
    diffs = []
    for i, (p, o) in enumerate(zip(prog, orc)):
        for k in sorted(set(p) | set(o)):
            if k not in p or k not in o:
                # only muscles the program did not list / fields it lacks
                diffs.append((i, k, p.get(k, "<absent>"), o.get(k, "<absent>")))
            elif not _same(p[k], o[k]):
                diffs.append((i, k, p[k], o[k]))
    return diffs


def is_phenotype(path: str) -> bool:
    return path.startswith("phenotype.")


def known(case: Case, diff) -> bool:
    i, path, prog, orc = diff
    g = generic(path)
    return any(re.fullmatch(rx, g) and pred(case, i, prog, orc) for rx, pred, _ in KNOWN)


# ------------------------------------------------------------------ pytest

ORACLE = settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@ORACLE
@given(st.randoms(use_true_random=False))
def test_program_agrees_with_the_clean_room_oracle(rng):
    # a hypothesis-controlled Random: every choice is a recorded draw, so failures shrink
    c = RandomChooser(rng)
    case = to_case(gen_case(c))
    opts = gen_options(c)
    diffs = [d for d in compare(case, opts) if not known(case, d)]
    core = [d for d in diffs if not is_phenotype(d[1])]
    assert not core, _explain(case, opts, core)
    # phenotype (in flux: domain/phenotype.py is being changed) compared last
    phen = [d for d in diffs if is_phenotype(d[1])]
    assert not phen, _explain(case, opts, phen)


def _explain(case: Case, opts: dict, diffs) -> str:
    lines = [f"visit {i} {k}: program={p!r} oracle={o!r}" for i, k, p, o in diffs[:20]]
    lines.append("options: " + json.dumps({k: v for k, v in opts.items() if DEFAULT_OPTIONS[k] != v}))
    lines.append("case: " + json.dumps(case_to_data(case)))
    return "\n".join(lines)


# ------------------------------------------------------------------ script mode

def _variants(data: dict, opts: dict):
    """Smaller candidates of (case data, options): one deletion or simplification each."""
    for k in [k for k in opts if opts[k] != DEFAULT_OPTIONS[k]]:
        yield data, {**opts, k: DEFAULT_OPTIONS[k]}
    vs = data["visits"]
    for i in range(len(vs)):
        yield {**data, "visits": vs[:i] + vs[i + 1:]}, opts
    for k in [k for k in data["patient"] if k != "id"]:
        yield {**data, "patient": {kk: vv for kk, vv in data["patient"].items() if kk != k}}, opts
    for i, v in enumerate(vs):
        def with_visit(nv, i=i):
            return {**data, "visits": vs[:i] + [nv] + vs[i + 1:]}
        for key in ("muscles", "reflexes", "signs"):
            items = v.get(key, [])
            for j in range(len(items)):
                yield with_visit({**v, key: items[:j] + items[j + 1:]}), opts
        for key in ("alsfrs_r", "progressive_by_history", "alternatives_excluded", "fvc_percent",
                    "weight_kg", "notes"):
            if key in v:
                yield with_visit({kk: vv for kk, vv in v.items() if kk != key}), opts
        for j, mu in enumerate(v.get("muscles", [])):
            def with_muscle(nm, j=j):
                ms = v["muscles"]
                return with_visit({**v, "muscles": ms[:j] + [nm] + ms[j + 1:]})
            for key in ("mrc", "wasting", "fasciculations", "other_cause", "emg"):
                if key in mu:
                    yield with_muscle({kk: vv for kk, vv in mu.items() if kk != key}), opts
            for key in list(mu.get("emg", {})):
                yield with_muscle({**mu, "emg": {kk: vv for kk, vv in mu["emg"].items() if kk != key}}), opts
        if "alsfrs_r" in v:
            for key in ITEMS:
                if v["alsfrs_r"][key] != 4:
                    yield with_visit({**v, "alsfrs_r": {**v["alsfrs_r"], key: 4}}), opts
            if v["alsfrs_r"]["gastrostomy"]:
                yield with_visit({**v, "alsfrs_r": {**v["alsfrs_r"], "gastrostomy": False}}), opts


def shrink(data: dict, opts: dict, field: str) -> tuple[dict, dict, tuple]:
    """Greedy deletion until no single simplification keeps a disagreement on ``field``."""
    def bad(d, o):
        try:
            case = to_case(d)
        except Exception:
            return None
        for diff in compare(case, o):
            if generic(diff[1]) + (" [KNOWN]" if known(case, diff) else "") == field:
                return diff
        return None

    diff = bad(data, opts)
    changed = True
    while changed:
        changed = False
        for d2, o2 in _variants(data, opts):
            got = bad(d2, o2)
            if got is not None:
                data, opts, diff, changed = d2, o2, got, True
                break
    return data, opts, diff


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 5000
    seed = int(argv[2]) if len(argv) > 2 else 1
    rng = random.Random(seed)
    tally: Counter = Counter()
    cases_with: Counter = Counter()
    first: dict = {}
    nvisits = 0
    for _ in range(n):
        c = RandomChooser(rng)
        data = gen_case(c)
        opts = gen_options(c)
        case = to_case(data)
        nvisits += len(case.visits)
        seen = set()
        for d in compare(case, opts):
            i, k, p, o = d
            g = generic(k) + (" [KNOWN]" if known(case, d) else "")
            tally[g] += 1
            if g not in seen:
                cases_with[g] += 1
                seen.add(g)
            first.setdefault(g, (data, opts))
    print(f"{n} cases, {nvisits} visits compared (seed {seed}); "
          f"{len(tally)} fields disagree")
    for g in sorted(tally, key=lambda g: ("[KNOWN]" in g, is_phenotype(g), -cases_with[g])):
        data, opts = first[g]
        sdata, sopts, diff = shrink(data, opts, g)
        tag = " [phenotype (in flux)]" if is_phenotype(g) else ""
        print(f"\n== {g}{tag}: {cases_with[g]} cases, {tally[g]} visit-fields")
        print(f"   minimal: visit {diff[0]} {diff[1]}: program={diff[2]!r} oracle={diff[3]!r}")
        print("   options: " + json.dumps({k: v for k, v in sopts.items() if DEFAULT_OPTIONS[k] != v}))
        print("   case: " + json.dumps(sdata))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
