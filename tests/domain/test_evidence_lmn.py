"""LMN evidence (clinical-rules 4): clinical per framework, EMG predicates, the EMG region rule."""

import pytest

from tests.builders import L, L_emg, emg_lmn, m, one, wasted


# 4.1 clinical LMN in a muscle

def test_wasting_makes_a_muscle_clinical_lmn_for_rEEC_and_Awaji_by_default():
    vc = one(m("first_dorsal_interosseous", "right", None, "mild"))
    assert L(vc, "el_escorial") == {"cervical"} == L(vc, "awaji")


def test_weakness_alone_is_not_clinical_lmn_by_default():
    vc = one(m("first_dorsal_interosseous", "right", "3", "none"))
    assert L(vc, "el_escorial") == set()


def test_option_weakness_or_wasting_accepts_weakness_alone():
    vc = one(m("first_dorsal_interosseous", "right", "3", None), clinical_lmn_rule="weakness_or_wasting")
    assert L(vc, "el_escorial") == {"cervical"}


def test_option_weakness_and_wasting_needs_both():
    vc = one(m("first_dorsal_interosseous", "right", "5", "mild"), clinical_lmn_rule="weakness_and_wasting")
    assert L(vc, "el_escorial") == set()
    vc = one(m("first_dorsal_interosseous", "right", "4", "mild"), clinical_lmn_rule="weakness_and_wasting")
    assert L(vc, "el_escorial") == {"cervical"}


def test_gold_coast_needs_weak_and_wasted_whatever_the_option():
    vc = one(m("first_dorsal_interosseous", "right", "5", "severe"), clinical_lmn_rule="weakness_or_wasting")
    assert L(vc, "gold_coast") == set()
    assert L(vc, "el_escorial") == {"cervical"}


def test_mrc_5_minus_is_weak():
    vc = one(m("first_dorsal_interosseous", "right", "5-", "mild"))
    assert vc.evidence.muscles[0].weak
    assert L(vc, "gold_coast") == {"cervical"}


def test_clinical_fasciculations_alone_never_make_a_muscle_lmn():
    vc = one(m("first_dorsal_interosseous", "right", fasciculations=True))
    assert L(vc, "awaji") == L(vc, "gold_coast") == set()
    assert "supportive only" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_one_muscle_suffices_for_clinical_lmn_in_a_region():
    vc = one(wasted("tibialis_anterior", "left"))
    assert L(vc, "el_escorial") == {"lumbosacral"}


def test_any_thoracic_muscle_counts_clinically():
    vc = one(wasted("intercostals", "midline"))
    assert L(vc, "el_escorial") == {"thoracic"}


# 4.2 EMG predicates

@pytest.mark.parametrize("emg,expected", [
    (dict(fibrillations=1, mup_large=True), {"el_escorial", "awaji", "gold_coast"}),
    (dict(positive_sharp_waves=1, recruitment="reduced"), {"el_escorial", "awaji"}),
    (dict(fibrillations=1, mup_unstable=True), {"el_escorial", "awaji"}),
    (dict(fasciculation_potentials="present", mup_large=True), {"awaji", "gold_coast"}),
    (dict(fasciculation_potentials="complex", recruitment="reduced"), {"awaji"}),
    (dict(fibrillations=2), set()),
    (dict(mup_large=True, recruitment="reduced", mup_unstable=True), set()),
    (dict(fibrillations=1, recruitment="absent"), set()),
    (dict(fasciculation_potentials="absent", mup_large=True), set()),
    (dict(fibrillations=0, positive_sharp_waves=0, mup_large=True), set()),
])
def test_emg_predicates_of_each_framework(emg, expected):
    vc = one(emg_lmn("tongue", "midline", **{**dict(fibrillations=0, positive_sharp_waves=0,
                     fasciculation_potentials="absent", mup_large=False, recruitment="normal"), **emg}))
    got = {c for c, ok in vc.evidence.muscles[0].lmn_emg.items() if ok}
    assert got == expected


# 4.3 EMG LMN in a region

def test_one_bulbar_muscle_with_emg_lmn_makes_bulbar_emg_lmn():
    assert L_emg(one(emg_lmn("tongue", "midline")), "awaji") == {"bulbar"}


@pytest.mark.parametrize("muscle,ok", [
    ("thoracic_paraspinals_lower", True), ("rectus_abdominis", True), ("external_oblique", True),
    ("thoracic_paraspinals_upper", False), ("intercostals", False),
])
def test_thoracic_emg_needs_paraspinals_at_or_below_t6_or_abdominal_wall(muscle, ok):
    vc = one(emg_lmn(muscle, "midline"))
    assert (L_emg(vc, "awaji") == {"thoracic"}) is ok
    if not ok:
        assert "does not qualify" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


@pytest.mark.parametrize("a,b,ok", [
    ("first_dorsal_interosseous", "biceps", True),
    ("first_dorsal_interosseous", "triceps", True),  # C8-T1 / C7
    ("first_dorsal_interosseous", "abductor_pollicis_brevis", False),  # both C8-T1
    ("deltoid", "biceps", False),  # both C5-C6
    ("extensor_digitorum", "first_dorsal_interosseous", False),  # share C8
    ("tibialis_anterior", "gastrocnemius", True),
    ("tibialis_anterior", "tibialis_posterior", False),  # share L5
    ("tibialis_anterior", "extensor_hallucis_longus", False),  # same nerve
])
def test_the_spec_examples_of_the_two_muscle_rule(a, b, ok):
    """clinical-rules 4.3, default root_rule no_shared_principal."""
    vc = one(emg_lmn(a, "right"), emg_lmn(b, "left"))
    region = vc.evidence.muscles[0].region
    assert (L_emg(vc, "awaji") == {region}) is ok


@pytest.mark.parametrize("paraspinals,limb", [
    ("cervical_paraspinals", m_) for m_ in (
        "deltoid", "biceps", "triceps", "extensor_digitorum", "first_dorsal_interosseous",
        "abductor_pollicis_brevis", "serratus_anterior", "rhomboids",
    )
] + [
    ("lumbosacral_paraspinals", m_) for m_ in (
        "iliopsoas", "quadriceps", "tibialis_anterior", "tibialis_posterior", "gastrocnemius",
        "gluteus_maximus", "abductor_hallucis", "biceps_femoris_short",
    )
])
def test_paraspinals_pair_with_no_limb_muscle_of_their_region_by_default(paraspinals, limb):
    """The paraspinal-plus-myotome pattern of a radiculopathy is not two roots (4.3)."""
    vc = one(emg_lmn(paraspinals), emg_lmn(limb))
    assert L_emg(vc, "awaji") == set()
    assert "share principal root" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_the_reason_names_the_one_shared_principal_root():
    vc = one(emg_lmn("extensor_digitorum"), emg_lmn("first_dorsal_interosseous"))
    text = "\n".join(x.text for x in vc.criteria["awaji"].reasons)
    assert "Extensor digitorum communis R and First dorsal interosseous R share principal root C8." in text


def test_root_rule_principal_differs_keeps_the_former_reading():
    """Option root_rule=principal_differs: only identical principal-root sets conflict."""
    for pair in (("extensor_digitorum", "first_dorsal_interosseous"),
                 ("tibialis_anterior", "tibialis_posterior"),
                 ("lumbosacral_paraspinals", "tibialis_anterior")):
        vc = one(emg_lmn(pair[0]), emg_lmn(pair[1]), root_rule="principal_differs")
        assert L_emg(vc, "awaji") == {vc.evidence.muscles[0].region}, pair
    vc = one(emg_lmn("deltoid"), emg_lmn("biceps"), root_rule="principal_differs")
    assert L_emg(vc, "awaji") == set()
    assert "share principal roots C5-C6" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_one_limb_muscle_is_not_enough_and_the_reason_says_so():
    vc = one(emg_lmn("first_dorsal_interosseous"))
    assert L_emg(vc, "awaji") == set()
    assert "only First dorsal interosseous R has EMG LMN" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_the_reason_names_the_shared_root_range():
    vc = one(emg_lmn("first_dorsal_interosseous"), emg_lmn("abductor_pollicis_brevis"))
    text = "\n".join(x.text for x in vc.criteria["awaji"].reasons)
    assert "First dorsal interosseous R and Abductor pollicis brevis R share principal roots C8-T1" in text


def test_left_and_right_of_one_muscle_share_a_nerve():
    vc = one(emg_lmn("biceps", "left"), emg_lmn("biceps", "right"))
    assert L_emg(vc, "awaji") == set()
    assert "share the musculocutaneous nerve" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_root_rule_disjoint_refuses_overlapping_root_ranges():
    # FDI C8-T1 and triceps (roots C6-C8, principal C7): no shared principal root, but the
    # full ranges share C8.
    pair = (emg_lmn("first_dorsal_interosseous"), emg_lmn("triceps"))
    assert L_emg(one(*pair), "awaji") == {"cervical"}
    vc = one(*pair, root_rule="disjoint")
    assert L_emg(vc, "awaji") == set()
    assert "share root C8 (disjoint rule)" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_paraspinals_have_a_nerve_of_their_own():
    # Dorsal rami are not the peroneal nerve: under principal_differs the pair counts.
    vc = one(emg_lmn("lumbosacral_paraspinals"), emg_lmn("tibialis_anterior"), root_rule="principal_differs")
    assert L_emg(vc, "awaji") == {"lumbosacral"}
    vc = one(emg_lmn("cervical_paraspinals"), emg_lmn("cervical_paraspinals", "left"))
    assert "share the dorsal rami nerve" in "\n".join(x.text for x in vc.criteria["awaji"].reasons)


def test_tibial_and_peroneal_divisions_count_as_different_nerves():
    # Biceps femoris long head (tibial, S1) and tibialis anterior (peroneal, L4-L5).
    vc = one(emg_lmn("tibialis_anterior"), emg_lmn("biceps_femoris_long"))
    assert L_emg(vc, "awaji") == {"lumbosacral"}
    # Long and short heads: tibial and peroneal divisions, but both S1.
    vc = one(emg_lmn("biceps_femoris_long"), emg_lmn("biceps_femoris_short"), root_rule="principal_differs")
    assert L_emg(vc, "awaji") == set()


def test_scm_region_bulbar_moves_sternocleidomastoid_and_trapezius_to_bulbar():
    vc = one(emg_lmn("sternocleidomastoid"))
    assert L_emg(vc, "awaji") == set()
    vc = one(emg_lmn("sternocleidomastoid"), scm_region="bulbar")
    assert L_emg(vc, "awaji") == {"bulbar"}
    vc = one(wasted("trapezius"), scm_region="bulbar")
    assert L(vc, "el_escorial") == {"bulbar"}


def test_diaphragm_and_t1_hand_muscles_are_cervical():
    assert L(one(wasted("diaphragm")), "el_escorial") == {"cervical"}
    assert L(one(wasted("abductor_digiti_minimi")), "el_escorial") == {"cervical"}


def test_a_muscle_attributed_to_another_cause_is_ignored_and_explained():
    vc = one(wasted("first_dorsal_interosseous", other_cause=True), emg_lmn("biceps", other_cause=True))
    assert L(vc, "awaji") == set()
    text = "\n".join(x.text for x in vc.criteria["awaji"].reasons)
    assert "Ignored: First dorsal interosseous R (findings attributed to another cause)." in text
    assert vc.evidence.regions["cervical"].examined


# 4.4 which LMN each framework uses

def test_rEEC_categories_use_clinical_lmn_only_and_Awaji_and_Gold_Coast_add_emg():
    vc = one(emg_lmn("tongue", "midline"))
    assert L(vc, "el_escorial") == set()
    assert L(vc, "awaji") == {"bulbar"} == L(vc, "gold_coast")
    assert vc.evidence.regions["bulbar"].as_json()["lmn_emg"]["el_escorial"] is True
