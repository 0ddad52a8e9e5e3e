"""Write the JSON Schema of motorchart-case/1 into resources/ (`python -m desktop.schema`)."""

from __future__ import annotations

import json
import sys

from domain.case import case_json_schema

from .resources import load_catalogue, resource_path

SCHEMA_FILE = ("schema", "motorchart-case-1.schema.json")


def schema_text() -> str:
    return json.dumps(case_json_schema(load_catalogue()), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    from .outfiles import write_atomic

    path = write_atomic(resource_path(*SCHEMA_FILE), schema_text())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
