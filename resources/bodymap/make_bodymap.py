"""Writes ``bodymap.json`` beside this file: the body-map figure drawn by the app (QPainter) and
the PDF reports (reportlab). Run it after changing a point here; the JSON is what ships.

Coordinates: each view is a box ``width`` x ``height`` units, origin top left, y growing down.
The figure stands facing the viewer in the front view (the patient's right on the viewer's
left) and facing away in the back view (the patient's right on the viewer's right).
Run: ``python resources/bodymap/make_bodymap.py``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

W, H = 200, 410
MID = W / 2

# Key points of the viewer's right half of the body (x > MID), from the neck round the arm, down
# the trunk and the leg to the crotch. Named points are cut points of the region zones.
CHAIN = [
    ("N1", 108, 50), ("N2", 109, 64), ("S1", 126, 71), ("S2", 142, 76), ("S3", 151, 88),
    ("A1", 154, 110), ("A2", 157, 140), ("A3", 161, 175), ("A4", 164, 205),
    ("H1", 170, 216), ("H2", 173, 238), ("H3", 166, 252), ("H4", 158, 248), ("H5", 153, 228),
    ("W", 150, 207), ("I1", 145, 175), ("I2", 140, 142), ("I3", 136, 118), ("AX", 131, 102),
    ("T1", 129, 130), ("T2", 124, 165), ("T3", 126, 190), ("T4", 134, 215),
    ("L1", 135, 245), ("L2", 131, 288), ("L3", 131, 322), ("L4", 122, 372),
    ("F1", 128, 390), ("F2", 125, 400), ("F3", 106, 400), ("L5", 106, 374), ("L6", 105, 330),
    ("L7", 104, 290), ("L8", 102, 250), ("C", 100, 234),
]
HEAD = (MID, 30, 17, 23)  # centre x, centre y, radius x, radius y

# Marker positions: muscle -> (view, distance from the midline, y) for the patient's LEFT side.
# Right is mirrored; the midline position (x = MID) serves bulbar and thoracic muscles recorded
# midline.
MARKERS = {
    # bulbar (head)
    "frontalis": ("front", 8, 15), "temporalis": ("front", 12, 22),
    "orbicularis_oculi": ("front", 7, 27), "palate": ("front", 3, 31),
    "tongue": ("front", 4, 38), "masseter": ("front", 12, 40),
    "orbicularis_oris": ("front", 7.5, 44.5), "mentalis": ("front", 3, 49),
    # cervical: neck, shoulder girdle, arm, hand
    "sternocleidomastoid": ("front", 4, 60), "trapezius": ("back", 17, 75),
    "cervical_paraspinals": ("back", 4, 58), "diaphragm": ("front", 19, 148),
    "rhomboids": ("back", 12, 90), "serratus_anterior": ("front", 26, 118),
    "supraspinatus": ("back", 26, 79), "infraspinatus": ("back", 23, 100),
    "deltoid": ("front", 45, 87), "pectoralis_major": ("front", 18, 92),
    "biceps": ("front", 50, 112), "brachialis": ("front", 47, 130),
    "triceps": ("back", 50, 118), "latissimus_dorsi": ("back", 22, 128),
    "pronator_teres": ("front", 46, 150), "brachioradialis": ("front", 54, 147),
    "flexor_carpi_ulnaris": ("front", 47, 164), "flexor_carpi_radialis": ("front", 55, 163),
    "flexor_digitorum_profundus_4": ("front", 48.5, 178),
    "flexor_digitorum_superficialis": ("front", 56, 177),
    "flexor_digitorum_profundus_2": ("front", 52, 191), "flexor_pollicis_longus": ("front", 58.5, 191),
    "pronator_quadratus": ("front", 56, 203),
    "abductor_pollicis_brevis": ("front", 67, 222), "opponens_pollicis": ("front", 65, 231),
    "adductor_pollicis": ("front", 60, 238), "abductor_digiti_minimi": ("front", 57, 229),
    "extensor_carpi_radialis": ("back", 54, 150), "extensor_digitorum": ("back", 53, 168),
    "extensor_indicis": ("back", 57, 188), "first_dorsal_interosseous": ("back", 63, 228),
    # thoracic
    "thoracic_paraspinals_upper": ("back", 5, 112), "thoracic_paraspinals_lower": ("back", 5, 150),
    "intercostals": ("front", 12, 124), "rectus_abdominis": ("front", 7, 160),
    "external_oblique": ("front", 19, 174),
    # lumbosacral: pelvis and leg
    "lumbosacral_paraspinals": ("back", 5, 185), "gluteus_medius": ("back", 25, 200),
    "gluteus_maximus": ("back", 14, 216), "iliopsoas": ("front", 15, 212),
    "tensor_fasciae_latae": ("front", 31, 224), "adductor_longus": ("front", 9, 246),
    "rectus_femoris": ("front", 22, 248), "quadriceps": ("front", 26, 272),
    "semitendinosus": ("back", 12, 262), "biceps_femoris_long": ("back", 25, 258),
    "biceps_femoris_short": ("back", 26, 281),
    "tibialis_anterior": ("front", 23, 320), "peroneus_longus": ("front", 23, 338),
    "extensor_hallucis_longus": ("front", 17, 356), "extensor_digitorum_brevis": ("front", 22, 390),
    "gastrocnemius": ("back", 16, 314), "soleus": ("back", 18, 342),
    "tibialis_posterior": ("back", 10, 358), "flexor_digitorum_longus": ("back", 17, 366),
    "abductor_hallucis": ("back", 10, 392),
}

STATES = {
    # Okabe-Ito colours: told apart with the common colour-vision deficiencies.
    "umn": {"label": "UMN", "fill": "#D55E00", "stroke": "#7A3600"},
    "lmn": {"label": "LMN", "fill": "#0072B2", "stroke": "#00405F"},
    "mixed": {"label": "UMN + LMN", "fill": "#CC79A7", "stroke": "#6E3A58"},
    "normal": {"label": "normal", "fill": "#009E73", "stroke": "#005A40"},
    "other_cause": {"label": "other cause", "fill": "#BDBDBD", "stroke": "#5F5F5F"},
    "not_examined": {"label": "not examined", "fill": None, "stroke": "#A0A0A0"},
}
REGION_FILL = {
    "bulbar": "#EFE3F5", "cervical": "#E1EEF9", "thoracic": "#FBF1D9", "lumbosacral": "#E3F2E4",
}


def catmull_rom(points, samples=5):
    """An open smooth curve through ``points`` (centripetal ends by repeating the end points)."""
    pts = [points[0]] + list(points) + [points[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(samples):
            t = s / samples
            t2, t3 = t * t, t * t * t
            out.append(tuple(
                round(0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                             + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3), 1)
                for k in (0, 1)))
    out.append(tuple(float(v) for v in points[-1]))
    return out


def mirror(p):
    return (round(2 * MID - p[0], 1), p[1])


def symmetric(half):
    """A closed polygon from its right half (which starts and ends on the midline or at a cut)."""
    return [list(p) for p in half] + [list(mirror(p)) for p in reversed(half)]


def build():
    names = [n for n, _, _ in CHAIN]
    keys = [(x, y) for _, x, y in CHAIN]
    samples = 5
    smooth = catmull_rom(keys, samples)
    at = {n: i * samples for i, n in enumerate(names)}  # index of each key point on the curve

    cx, cy, rx, ry = HEAD
    head = [[round(cx + rx * math.cos(2 * math.pi * i / 40), 1), round(cy + ry * math.sin(2 * math.pi * i / 40), 1)]
            for i in range(40)]
    body = symmetric(smooth)
    ax_y = keys[names.index("AX")][1]
    t3_y = keys[names.index("T3")][1]
    zones = {
        "bulbar": [head],
        "cervical": [symmetric([(MID, 46.0)] + smooth[at["N1"]: at["AX"] + 1] + [(MID, float(ax_y))])],
        "thoracic": [symmetric([(MID, float(ax_y))] + smooth[at["AX"]: at["T3"] + 1] + [(MID, float(t3_y))])],
        "lumbosacral": [symmetric([(MID, float(t3_y))] + smooth[at["T3"]:])],
    }
    details = {
        "front": [
            [[MID - 4, 69], [MID - 14, 67], [MID - 25, 71]], [[MID + 4, 69], [MID + 14, 67], [MID + 25, 71]],
            [[MID - 3, 168], [MID + 3, 168]],
        ],
        "back": [[[MID, 54], [MID, 228]], [[MID - 8, 214], [MID, 226], [MID + 8, 214]]],
    }
    views = []
    for vid, label in (("front", "Front"), ("back", "Back")):
        views.append({"id": vid, "label": label, "outline": [head, body], "lines": details[vid]})

    catalogue = Path(__file__).resolve().parent.parent / "catalogue" / "muscles.csv"
    with catalogue.open(encoding="utf-8") as f:
        region = {row["id"]: row["region"] for row in csv.DictReader(f)}
    markers = []
    for muscle, (view, dx, y) in MARKERS.items():
        # Front view: the patient's left is on the viewer's right; back view: on the viewer's left.
        left_x = MID + dx if view == "front" else MID - dx
        pos = {"left": [float(left_x), float(y)], "right": [list(mirror((left_x, y)))[0], float(y)]}
        if region[muscle] in ("bulbar", "thoracic"):  # the only muscles that may be recorded midline
            pos["midline"] = [float(MID), float(y)]
        markers.append({"muscle": muscle, "view": view, "positions": pos})
    return {
        "format": "motorchart-bodymap/1",
        "description": "Front and back figure of the body with the four regions (bulbar, cervical, "
                       "thoracic, lumbosacral) and a marker position per catalogue muscle and side. "
                       "Units: each view is a width x height box, origin top left, y down. "
                       "Generated by make_bodymap.py.",
        "width": W,
        "height": H,
        "marker_radius": 3.0,
        "views": views,
        "zones": zones,
        "region_fill": REGION_FILL,
        "states": STATES,
        "markers": markers,
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("bodymap.json")
    out.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
