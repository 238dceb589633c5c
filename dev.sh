#!/usr/bin/env bash
# One entry point for developers and CI:
#   ./dev.sh run    create .venv, install showkeeper, serve on 127.0.0.1:8000 (SQLite in ./data)
#   ./dev.sh test   create .venv, install showkeeper with test tools, run the test suite
#   ./dev.sh lint   ruff format --check, ruff check, mypy
#   ./dev.sh demo   the demo: sample series served locally, setup done (showkeeper demo)
#   ./dev.sh screenshots   docs/screenshots/ from the demo, in Chromium
#   ./dev.sh vendor      refresh the browser files served from web/static/vendor/ (npm, once)
#   ./dev.sh image       build the container image showkeeper:latest (docker/image.sh)
#   ./dev.sh image-test  build it, run it and check it as CI does
# Extra arguments go to the command: ./dev.sh test -k queue -x
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

venv() {  # $1: "" or "[dev]"
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed$1-$(cat pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".$1"
    touch "$stamp"
  fi
}

system_packages() {  # Debian packages the tests use, installed when missing and possible
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
  if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null \
      || echo "warning: could not install ${missing[*]}; tests that need them will fail" >&2
  fi
}

cmd=${1:-}
shift || true
case "$cmd" in
  run)
    venv ""
    exec "$VENV/bin/showkeeper" serve "$@"
    ;;
  test)
    venv "[dev]"
    system_packages
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  lint)
    venv "[dev]"
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/ruff" check .
    "$VENV/bin/mypy"
    ;;
  vendor)
    exec bash scripts/vendor.sh "$@"
    ;;
  demo)
    venv ""
    exec "$VENV/bin/showkeeper" demo "$@"
    ;;
  screenshots)
    venv "[dev]"
    system_packages
    exec "$VENV/bin/python" scripts/screenshots.py "$@"
    ;;
  image)
    exec bash docker/image.sh build
    ;;
  image-test)
    exec bash docker/image.sh test
    ;;
  *)
    echo "usage: ./dev.sh run|test|lint|demo|screenshots|vendor|image|image-test [args...]" >&2
    exit 2
    ;;
esac
