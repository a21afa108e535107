"""`python -m fhiradapter.mapping.directives --write-schema`: the schema's directive list from TABLE."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from fhiradapter.mapping.directives import schema_definition

SCHEMA = Path(__file__).resolve().parents[1] / "schema" / "mapping-v1.schema.json"


def main(argv: list[str]) -> int:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    current = schema["$defs"].get("directive")
    wanted = schema_definition()
    if "--write-schema" in argv:
        schema["$defs"]["directive"] = wanted
        SCHEMA.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {SCHEMA}")
        return 0
    if current != wanted:
        print(f"{SCHEMA}: the directive list differs from the table; run with --write-schema")
        return 1
    print("schema directive list matches the table")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
