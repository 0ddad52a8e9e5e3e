"""Muscle protocols: which grid rows are shown.

Built in: the MND screening set and the full catalogue. Custom protocols are saved in the
chart's settings under ``protocols`` as ``{name: [muscle ids]}``. Muscles recorded in the open
visit are always shown, whatever the protocol.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from domain.catalogue import Catalogue

if TYPE_CHECKING:
    from desktop.store.chart import ChartStore

SCREENING = (
    "tongue", "masseter", "orbicularis_oris", "sternocleidomastoid", "trapezius",
    "cervical_paraspinals", "deltoid", "pectoralis_major", "biceps", "brachioradialis", "triceps",
    "extensor_carpi_radialis",
    "extensor_digitorum", "flexor_digitorum_profundus_2", "abductor_pollicis_brevis",
    "first_dorsal_interosseous", "abductor_digiti_minimi", "thoracic_paraspinals_upper",
    "thoracic_paraspinals_lower", "rectus_abdominis", "lumbosacral_paraspinals", "iliopsoas",
    "adductor_longus", "quadriceps", "biceps_femoris_long", "tibialis_anterior",
    "gastrocnemius", "extensor_digitorum_brevis",
)
"""A screening set: each region, each limb proximal and distal, and the muscle of every reflex
the UMN score counts (the grid records a reflex on its linked muscle's row)."""

BUILT_IN = ("MND screening", "Full catalogue")


def custom_protocols(settings: dict) -> dict[str, list[str]]:
    raw = settings.get("protocols") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return {str(k): [str(m) for m in v] for k, v in raw.items() if isinstance(v, list)}


def protocol_names(settings: dict) -> list[str]:
    return list(BUILT_IN) + sorted(custom_protocols(settings))


def protocol_muscles(name: str, catalogue: Catalogue, settings: dict) -> set[str] | None:
    """The muscle ids of a protocol; None = the full catalogue."""
    if name == "Full catalogue":
        return None
    if name == "MND screening":
        return {m for m in SCREENING if m in catalogue.muscle}
    ids = custom_protocols(settings).get(name)
    if ids is None:
        return {m for m in SCREENING if m in catalogue.muscle}
    return {m for m in ids if m in catalogue.muscle}


def save_protocol(store: ChartStore, name: str, muscles: list[str]) -> None:
    name = name.strip()
    if not name:
        raise ValueError("a protocol needs a name")
    if name in BUILT_IN:
        raise ValueError(f'"{name}" is a built-in protocol: choose another name')
    if not muscles:
        raise ValueError("a protocol needs at least one muscle")
    protos = custom_protocols(store.settings())
    protos[name] = list(muscles)
    store.set_setting("protocols", protos)
