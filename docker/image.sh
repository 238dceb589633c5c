#!/usr/bin/env bash
# Build and check showkeeper's container image (./dev.sh image / image-test, .ci/run).
#
#   docker/image.sh build   build the image $IMAGE (default showkeeper:latest)
#   docker/image.sh test    build it, then run tests/container/check_image.py against it
#   docker/image.sh ci      `test` for .ci/run: installs what is missing, and tells a machine
#                           that cannot run containers (exit 0, with a warning) from a
#                           failure of ours (exit 1)
#
# What it needs it arranges when it runs as root on Debian: the docker.io, debootstrap and
# docker-compose packages, a docker daemon (started here when none answers, and stopped
# again at the end), and a base image. The base is $BASE when given; else a Debian image
# that is already there or can be pulled; else local/debian:bookworm, made from Debian's
# packages with debootstrap (no image registry needed; kept for the next run).
#
# Environment: IMAGE, BASE, DOCKER (the client; default /usr/bin/docker, Debian's, which
# the daemon here matches), KEEP_DAEMON=1 (leave a daemon started here running).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-showkeeper:latest}
LOCAL_BASE=local/debian:bookworm
PUBLIC_BASE=debian:bookworm-slim
if [ -z "${DOCKER:-}" ]; then
  # /usr/local/bin/docker may be a newer client without buildx; Debian's matches its daemon
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || echo docker); fi
fi
export DOCKER IMAGE
RUN_DIR=$(mktemp -d /tmp/showkeeper-image.XXXXXX)
DOCKERD_PID=""
MODE=${1:-}

say() { echo "image: $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# -- failures: ours, or a machine that cannot do it -------------------------------------------
# In ci mode a missing ability of the machine (no docker, a daemon that cannot start, no
# package mirror) ends the step with a warning and exit 0; everything else is a failure.
cannot() {
  say "SKIPPED: $*"
  if [ "$MODE" = ci ]; then
    echo "warning: the container step did not run: $*" >&2
    exit 0
  fi
  exit 1
}
fail() {
  say "FAILED: $*"
  exit 1
}

# -- cleanup, always ---------------------------------------------------------------------------
cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ] || timeout 5 "$DOCKER" info >/dev/null 2>&1; then
    # what the checks left behind if they were killed: containers, networks, volumes
    local label
    for label in showkeeper.ci com.docker.compose.project=showkeeper-ci \
      com.docker.compose.project=showkeeper-ci-single; do
      timeout 20 "$DOCKER" ps -aq --filter "label=$label" 2>/dev/null \
        | xargs -r timeout 60 "$DOCKER" rm -f -v >/dev/null 2>&1
      timeout 20 "$DOCKER" network ls -q --filter "label=$label" 2>/dev/null \
        | xargs -r timeout 30 "$DOCKER" network rm >/dev/null 2>&1
      timeout 20 "$DOCKER" volume ls -q --filter "label=$label" 2>/dev/null \
        | xargs -r timeout 30 "$DOCKER" volume rm -f >/dev/null 2>&1
    done
  fi
  stop_daemon
  rm -rf "$RUN_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# -- tools ---------------------------------------------------------------------------------------
apt_install() {  # packages, installed when missing and possible; quiet
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    return 1
  fi
  say "installing Debian packages: $*"
  (timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 180 \
    apt-get install -y -qq --no-install-recommends "$@") >"$RUN_DIR/apt.log" 2>&1 || {
    tail -n 5 "$RUN_DIR/apt.log" >&2
    return 1
  }
}

ensure_tools() {
  local missing=()
  # a client alone is not enough when no daemon answers: a machine may have a docker client
  # (e.g. a newer one in /usr/local/bin) without dockerd
  if ! daemon_up && { [ ! -x /usr/bin/docker ] || ! command -v dockerd >/dev/null 2>&1; }; then
    missing+=(docker.io)
  fi
  if [ "$MODE" = ci ] && ! command -v docker-compose >/dev/null 2>&1 \
    && ! "$DOCKER" compose version >/dev/null 2>&1; then
    missing+=(docker-compose)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}" || true
    [ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker
  fi
  { [ -x "$DOCKER" ] || command -v "$DOCKER" >/dev/null 2>&1; } \
    || cannot "no docker client (install Debian's docker.io package)"
}

# -- the daemon ----------------------------------------------------------------------------------
daemon_up() { timeout 10 "$DOCKER" info >/dev/null 2>&1; }

start_daemon() {
  daemon_up && return 0
  if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null 2>&1; then
    cannot "no docker daemon answers, and this user cannot start one (needs root and dockerd)"
  fi
  say "starting dockerd (log: $RUN_DIR/dockerd.log)"
  # its own pid file, so that one left behind by a killed daemon does not stop it
  dockerd --pidfile "$RUN_DIR/dockerd.pid" >"$RUN_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local start
  start=$(now)
  for _ in $(seq 1 120); do
    daemon_up && { say "dockerd answers after $(elapsed "$start") s"; return 0; }
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
      tail -n 15 "$RUN_DIR/dockerd.log" >&2
      DOCKERD_PID=""
      cannot "dockerd could not start on this machine (its last lines are above)"
    fi
    sleep 0.25
  done
  tail -n 15 "$RUN_DIR/dockerd.log" >&2
  cannot "dockerd did not answer within 30 s"
}

stop_daemon() {
  [ -n "$DOCKERD_PID" ] || return 0
  if [ "${KEEP_DAEMON:-}" = 1 ]; then
    say "leaving dockerd running (pid $DOCKERD_PID)"
    return 0
  fi
  kill -TERM "$DOCKERD_PID" 2>/dev/null
  for _ in $(seq 1 80); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    say "dockerd did not stop within 20 s; killing it"
    kill -KILL "$DOCKERD_PID" 2>/dev/null
  fi
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
}

# -- the base image ------------------------------------------------------------------------------
has_image() { timeout 20 "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

host_mirror() {  # the Debian mirror this host's apt uses, or nothing (debootstrap's default)
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  echo "$uri"
}

make_local_base() {  # local/debian:bookworm from Debian's packages
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap \
    || cannot "no image registry answers and debootstrap cannot be installed to make a base"
  local root="$RUN_DIR/rootfs" mirror start
  mirror=$(host_mirror)
  start=$(now)
  say "making $LOCAL_BASE with debootstrap${mirror:+ from $mirror} (once; kept in the daemon)"
  timeout 240 debootstrap --variant=minbase bookworm "$root" ${mirror:+"$mirror"} \
    >"$RUN_DIR/debootstrap.log" 2>&1 || {
    tail -n 10 "$RUN_DIR/debootstrap.log" >&2
    cannot "debootstrap could not make a Debian base (no package mirror?)"
  }
  # as debian:bookworm-slim: apt sources with updates and security, no docs, man pages or
  # translations installed later, no package files or lists kept
  local uri=${mirror:-http://deb.debian.org/debian}
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $uri
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${uri%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,info,locale,groff,lintian}/* "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  tar -C "$root" -c . | timeout 120 "$DOCKER" import \
    --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$LOCAL_BASE" >/dev/null \
    || fail "docker import of the base failed"
  rm -rf "$root"
  say "made $LOCAL_BASE in $(elapsed "$start") s"
}

choose_base() {
  if [ -n "${BASE:-}" ]; then
    has_image "$BASE" || timeout 120 "$DOCKER" pull -q "$BASE" >/dev/null \
      || fail "BASE=$BASE is neither here nor pullable"
    return 0
  fi
  for candidate in "$LOCAL_BASE" "$PUBLIC_BASE"; do
    if has_image "$candidate"; then BASE=$candidate; return 0; fi
  done
  if timeout 30 "$DOCKER" pull -q "$PUBLIC_BASE" >/dev/null 2>&1; then
    BASE=$PUBLIC_BASE
    return 0
  fi
  say "no image registry answers: the base is made from Debian's packages"
  make_local_base
  BASE=$LOCAL_BASE
}

# -- build ---------------------------------------------------------------------------------------
extra_ca_certs() {  # the host's extra CA certificates, for builds behind a TLS-intercepting proxy
  local f
  for f in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
    [ -f "$f" ] && cat "$f"
  done
  return 0
}

# Whether a container on this daemon reaches the Debian mirror: tells a failed build that
# could not download from one that is broken.
containers_reach_mirror() {
  timeout 90 "$DOCKER" run --rm --label showkeeper.ci=1 "$BASE" \
    sh -c 'apt-get update -qq >/dev/null 2>&1' >/dev/null 2>&1
}

build() {
  local version revision start
  version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/showkeeper/__init__.py)
  revision=$(git rev-parse HEAD 2>/dev/null || true)
  start=$(now)
  say "building $IMAGE on $BASE (log: $RUN_DIR/build.log)"
  # the classic builder: BuildKit would need buildx or pull a frontend image
  if ! DOCKER_BUILDKIT=0 timeout 420 "$DOCKER" build --force-rm \
    --build-arg BASE="$BASE" \
    --build-arg EXTRA_CA_CERTS="$(extra_ca_certs)" \
    --build-arg VERSION="$version" \
    --build-arg REVISION="$revision" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --label showkeeper.image=1 \
    -t "$IMAGE" . >"$RUN_DIR/build.log" 2>&1; then
    tail -n 40 "$RUN_DIR/build.log" >&2
    if ! containers_reach_mirror; then
      cannot "the build failed and containers here do not reach the Debian mirror"
    fi
    fail "docker build failed (its last lines are above)"
  fi
  BUILD_S=$(elapsed "$start")
  say "built $IMAGE in $BUILD_S s"
  # earlier builds of the image that no tag names any more (the stages' layers stay cached)
  timeout 60 "$DOCKER" image prune -f --filter label=showkeeper.image=1 >/dev/null 2>&1 || true
}

# -- main ----------------------------------------------------------------------------------------
case "$MODE" in
  build | test | ci) ;;
  *)
    echo "usage: docker/image.sh build|test|ci" >&2
    exit 2
    ;;
esac

STEP_START=$(now)
ensure_tools
start_daemon
choose_base
build
if [ "$MODE" = build ]; then
  exit 0
fi

compose_args=()
if "$DOCKER" compose version >/dev/null 2>&1; then
  compose_args=(--compose "$DOCKER compose")
elif command -v docker-compose >/dev/null 2>&1; then
  compose_args=(--compose "$(command -v docker-compose)")
fi
# its last lines are the JSON line and "container checks: N ok, N failed"
python3 tests/container/check_image.py --docker "$DOCKER" --image "$IMAGE" --base "$BASE" \
  --build-seconds "$BUILD_S" --step-started "$STEP_START" "${compose_args[@]}" \
  || fail "the image checks failed"
