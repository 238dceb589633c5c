"""The container files agree with the package: a plain `docker build` labels the image with
the right version, and the image's settings are real settings."""

import re
from pathlib import Path

from showkeeper import __version__
from showkeeper.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_version_label_default_is_the_package_version() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG VERSION=(\S+)$", dockerfile, re.M).group(1) == __version__, (
        "set `ARG VERSION=` in the Dockerfile to showkeeper.__version__"
    )


def test_container_files_name_only_settings_that_exist() -> None:
    names = set()
    for name in ("Dockerfile", "docker-compose.yml", "docker-compose.postgres.yml"):
        text = (ROOT / name).read_text(encoding="utf-8")
        # commented lines may name settings that do not exist yet (they say so)
        live = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        names |= set(re.findall(rf"\b{ENV_PREFIX}([A-Z0-9_]+)", live))
    assert names, "no settings found"
    unknown = {n for n in names if n.lower() not in Settings.model_fields}
    assert not unknown, f"not settings: {sorted(unknown)}"
