"""The settings table in README.md, generated from the Settings class.

`python -m showkeeper.config_doc` rewrites the table; a test fails when it drifts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from showkeeper.config import Settings, env_name

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"


def _default(name: str) -> str:
    field = Settings.model_fields[name]
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if name == "database_url" and not value:
        return "SQLite file `<data_dir>/showkeeper.db`"
    if value is None:
        return "(unset)"
    if isinstance(value, list):
        return f"`{','.join(str(v) for v in value)}`" if value else "(empty)"
    if isinstance(value, bool):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| setting | environment | default | accepted | meaning |", "|---|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        accepted = str(extra.get("accepted", ""))
        rows.append(
            f"| `{name}` | `{env_name(name)}` | {_default(name)} | {accepted} | {field.description or ''} |"
        )
    return "\n".join(rows)


def render_readme(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{settings_table()}\n{END}{tail}"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("README.md")
    path.write_text(render_readme(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
