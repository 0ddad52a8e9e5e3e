"""Classifier options (clinical-rules.md): each ambiguous reading is a named option with a default."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .case import MRC_GRADES

MrcGrade = Literal[MRC_GRADES]  # type: ignore[valid-type]


class Options(BaseModel):
    """All criteria options; the defaults are the spec's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scm_region: Literal["cervical", "bulbar"] = Field(
        "cervical", description="Region of sternocleidomastoid and trapezius (rEEC/AWJ/GCC, s.1)."
    )
    abdominal_reflexes_umn: bool = Field(
        False, description="Absent superficial abdominal reflexes count as thoracic UMN (s.3)."
    )
    preserved_reflex_min_grade: Annotated[int, Field(ge=0, le=4)] = Field(
        2, description="Lowest NINDS grade that counts as preserved in a weak, wasted muscle (GCC, s.3)."
    )
    preserved_reflex_max_mrc: MrcGrade = Field(
        "4",
        description="Highest MRC grade (full ordinal scale) of a muscle whose preserved reflex counts "
        "as UMN (GCC, s.3).",
    )
    preserved_reflex_min_wasting: Literal["mild", "moderate", "severe"] = Field(
        "moderate", description="Least wasting of a muscle whose preserved reflex counts as UMN (GCC, s.3)."
    )
    clinical_lmn_rule: Literal["wasting_required", "weakness_or_wasting", "weakness_and_wasting"] = (
        Field("wasting_required", description="Clinical LMN in a muscle for rEEC and Awaji (s.4.1).")
    )
    root_rule: Literal["no_shared_principal", "principal_differs", "disjoint"] = Field(
        "no_shared_principal", description="How two muscles' roots must differ for the EMG region rule (s.4.3)."
    )
    probable_reading: Literal["distributed", "colocated"] = Field(
        "distributed", description="Reading of clinically probable in rEEC and Awaji (s.5.1)."
    )
    gcc_reading: Literal["literal", "same_region"] = Field(
        "literal", description="Reading of the Gold Coast UMN+LMN clause (s.5.3)."
    )


OPTION_NAMES: tuple[str, ...] = tuple(Options.model_fields)


def options_to_settings(options: Options) -> list[str]:
    """``["name=value"]`` for every option that differs from its default (how a chart keeps
    its criteria options; the inverse of :func:`parse_option_settings`)."""
    default = Options()
    out = []
    for name in Options.model_fields:
        v = getattr(options, name)
        if v != getattr(default, name):
            out.append(f"{name}={str(v).lower() if isinstance(v, bool) else v}")
    return out


def option_choices(name: str) -> str:
    """A human description of an option's allowed values."""
    ann = Options.model_fields[name].annotation
    args = getattr(ann, "__args__", None)
    if ann is bool:
        return "true or false"
    if name == "preserved_reflex_min_grade":
        return "a whole number 0-4"
    if name == "preserved_reflex_max_mrc":
        return "an MRC grade (" + " ".join(MRC_GRADES) + ")"
    return " or ".join(args) if args else str(ann)


def parse_option_settings(settings: list[str], base: Options | None = None) -> tuple[Options, list[str]]:
    """Apply ``name=value`` settings to the options; returns (options, problems).

    Booleans are ``true``/``false``; an unknown name or value is a problem naming it.
    """
    values: dict[str, Any] = dict((base or Options()).model_dump())
    problems: list[str] = []
    for s in settings:
        name, sep, raw = s.partition("=")
        name = name.strip()
        raw = raw.strip()
        if not sep or not name:
            problems.append(f'--set {s}: expected name=value')
            continue
        if name not in Options.model_fields:
            problems.append(f'--set {s}: unknown option "{name}" (known: {", ".join(OPTION_NAMES)})')
            continue
        default = Options.model_fields[name].default
        value: Any = raw
        if isinstance(default, bool):
            if raw not in ("true", "false"):
                problems.append(f"--set {s}: {name} must be true or false")
                continue
            value = raw == "true"
        elif isinstance(default, int):
            if not raw.isdigit():
                problems.append(f"--set {s}: {name} must be {option_choices(name)}")
                continue
            value = int(raw)
        try:
            Options(**{**values, name: value})
        except ValidationError:
            problems.append(f"--set {s}: {name} must be {option_choices(name)}")
            continue
        values[name] = value
    return Options(**values), problems
