"""Write the JSON Schema of every contract to contracts/schemas/ (run after changing a model)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .codec import MESSAGES

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def rendered_schemas() -> dict[str, str]:
    """File name → JSON Schema text, exactly as checked in."""
    return {
        f"{name}.schema.json": json.dumps(
            model.model_json_schema(mode="serialization"),
            indent=2,
            ensure_ascii=False,
            sort_keys=True,
        )
        + "\n"
        for name, model in MESSAGES.items()
    }


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in rendered_schemas().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(MESSAGES)} schemas to {SCHEMA_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
