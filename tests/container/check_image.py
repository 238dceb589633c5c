"""Checks of showkeeper's container image, as a self-hoster uses it.

Run by ``docker/image.sh test|ci`` (``./dev.sh image-test``, ``.ci/run``) after the image is
built; pytest does not collect it (no ``test_`` prefix) and it needs only the standard library.

1. ffmpeg in the image makes the test media: an MP4, and the same as HLS (MPEG-TS segments).
2. A container started with PUID=1000 PGID=1000 runs as uid 1000 and answers /health within
   10 s; setup goes through the API; a feed served on this host (on the docker bridge's
   address) has its two episodes downloaded into the mounted library (the MP4 as it is, the
   HLS one joined by ffmpeg), where the files belong to uid 1000; ``docker stop`` ends the
   container within 10 s with exit code 0; after ``docker start`` the data is still there.
3. The compose files pass ``config``; when a compose tool is present they are started for
   real: docker-compose.yml answers /health with ./config and ./library handed to PUID:PGID,
   and docker-compose.postgres.yml (PostgreSQL, the API and two workers) downloads the feed
   through its workers.

Prints one JSON line (image size, start time, ...) and then ``container checks: N ok, N failed``.
Everything it starts is labelled ``showkeeper.ci`` and removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LABEL = "showkeeper.ci=1"
UID = 1000
PASSWORD = "container-check-" + secrets.token_hex(8)
COMPOSE_PROJECT = "showkeeper-ci"
COMPOSE_GATEWAY = "172.30.57.1"  # the subnet docker-compose.postgres.yml fixes
HEALTH_LIMIT_S = 10.0
STOP_LIMIT_S = 10.0
GOAL_SIZE_MB = 400
GOAL_START_S = 3.0


def interface_ipv4(name: str) -> str | None:
    """The IPv4 address of network interface ``name`` on this host (SIOCGIFADDR), or None."""
    import fcntl
    import struct

    siocgifaddr = 0x8915
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(
                sock.fileno(), siocgifaddr, struct.pack("256s", name[:15].encode())
            )
        except OSError:
            return None
    return socket.inet_ntoa(packed[20:24])


class CheckFailed(Exception):
    pass


# -- running things -----------------------------------------------------------------------------


class Docker:
    def __init__(self, client: str) -> None:
        self.client = client

    def __call__(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        return run([self.client, *args], timeout=timeout, check=check)


def run(
    args: list[str], *, timeout: float, check: bool = True, env: dict[str, str] | None = None
) -> str:
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"`{shlex.join(args)}` did not end within {timeout:.0f} s") from None
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise CheckFailed(
            f"`{shlex.join(args)}` exited {done.returncode}:\n    " + "\n    ".join(tail)
        )
    return done.stdout.strip()


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 0.1) -> Any:
    """Call probe until it returns something truthy; CheckFailed after timeout seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            result = probe()
        except CheckFailed:
            raise
        except Exception as exc:  # not there yet: connection refused, 5xx, ...
            last, result = exc, None
        if result:
            return result
        if time.monotonic() > deadline:
            reason = f" (last: {last})" if last else ""
            raise CheckFailed(f"{what} did not happen within {timeout:.0f} s{reason}")
        time.sleep(every)


# -- HTTP ---------------------------------------------------------------------------------------

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(
    method: str, url: str, body: Any = None, api_key: str | None = None, timeout: float = 10
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("X-Api-Key", api_key)
    try:
        with _NO_PROXY.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(status: int, answer: Any, wanted: int, what: str) -> Any:
    if status != wanted:
        raise CheckFailed(f"{what}: HTTP {status} (wanted {wanted}): {answer}")
    return answer


def health_ok(base: str) -> bool:
    status, _ = call("GET", f"{base}/health", timeout=2)
    return status == 200


TYPES = {".mp4": "video/mp4", ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


class FeedServer:
    """An RSS feed of two episodes, S01E01 a plain MP4 and S01E02 an HLS stream, served from
    this host on one address with the files of ``media``."""

    def __init__(self, host: str, media: Path) -> None:
        outer = self
        self.media = media

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                found = outer.resource(self.path)
                if found is None:
                    self.send_error(404)
                    return
                body, kind = found
                status, start, end = 200, 0, len(body) - 1
                ranges = self.headers.get("Range", "")
                if ranges.startswith("bytes=") and "," not in ranges:
                    first, _, last = ranges[6:].partition("-")
                    if first.isdigit():
                        start = int(first)
                        end = min(int(last), end) if last.isdigit() else end
                        status = 206
                part = body[start : end + 1]
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
                self.end_headers()
                if not head:
                    self.wfile.write(part)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def resource(self, path: str) -> tuple[bytes, str] | None:
        if path == "/feed.xml":
            return self.feed(), "application/rss+xml"
        file = (self.media / path.lstrip("/")).resolve()
        if file.parent.is_relative_to(self.media) and file.suffix in TYPES and file.is_file():
            return file.read_bytes(), TYPES[file.suffix]
        return None

    def feed(self) -> bytes:
        mp4 = self.media / "ep1.mp4"
        items = [
            (1, "Pilot", f"{self.base}/ep1.mp4", "video/mp4", mp4.stat().st_size),
            (2, "Streamed", f"{self.base}/hls/index.m3u8", TYPES[".m3u8"], 0),
        ]
        xml = "".join(
            f"""
  <item>
    <title>{title}</title>
    <guid>container-check-{n}</guid>
    <pubDate>Mon, 0{n} Jan 2024 10:00:00 GMT</pubDate>
    <itunes:season>1</itunes:season>
    <itunes:episode>{n}</itunes:episode>
    <enclosure url="{url}" type="{kind}" length="{length}"/>
  </item>"""
            for n, title, url, kind, length in items
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>Container Check</title>
  <link>{self.base}/</link>
  <description>Two episodes for the image check.</description>{xml}
</channel>
</rss>
""".encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the checks ---------------------------------------------------------------------------------


class Checks:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.docker = Docker(args.docker)
        self.image = args.image
        self.passed = 0
        self.failed = 0
        self.results: dict[str, Any] = {"image": self.image, "base": args.base}
        if args.build_seconds:
            self.results["build_s"] = float(args.build_seconds)
        self.work = Path(tempfile.mkdtemp(prefix="showkeeper-image-check."))
        self.media = self.work / "media"

    def check(self, name: str, fn: Callable[[], None]) -> bool:
        start = time.monotonic()
        try:
            fn()
        except CheckFailed as exc:
            self.failed += 1
            print(f"FAIL {name}: {exc}", flush=True)
            return False
        except Exception:  # a bug of this script: still a failure, still cleaned up
            self.failed += 1
            print(f"FAIL {name}:\n{traceback.format_exc()}", flush=True)
            return False
        self.passed += 1
        print(f"ok   {name} ({time.monotonic() - start:.1f} s)", flush=True)
        return True

    # -- 1. ffmpeg ---------------------------------------------------------------------------

    def ffmpeg(self) -> None:
        out = self.media
        (out / "hls").mkdir(parents=True)
        for folder in (out, out / "hls"):
            os.chown(folder, UID, UID)
        ff = [
            "run", "--rm", "--label", LABEL, "--entrypoint", "ffmpeg", "--user", f"{UID}:{UID}",
            "-v", f"{out}:/out", self.image, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-g", "25", "-c:a", "aac",
        ]  # fmt: skip
        self.docker(*ff, "/out/ep1.mp4", timeout=60)
        self.docker(
            *ff, "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
            "-hls_segment_filename", "/out/hls/seg%d.ts", "/out/hls/index.m3u8", timeout=60,
        )  # fmt: skip
        if (out / "ep1.mp4").read_bytes()[4:8] != b"ftyp":
            raise CheckFailed("the MP4 made by the image's ffmpeg is not an MP4")
        if len(list((out / "hls").glob("seg*.ts"))) < 2:
            raise CheckFailed("the image's ffmpeg made no HLS segments")

    # -- 2. one container ----------------------------------------------------------------------

    def bridge_gateway(self) -> str:
        """The host's address on the default bridge: its IPAM gateway, or (Docker 28 leaves
        that empty for the default bridge) the address of the bridge's interface here."""
        gateway = self.docker(
            "network", "inspect", "bridge", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"
        )
        if gateway:
            return gateway.split()[0]
        name = self.docker(
            "network",
            "inspect",
            "bridge",
            "-f",
            '{{index .Options "com.docker.network.bridge.name"}}',
        ).strip()
        address = interface_ipv4(name or "docker0")
        if address is None:
            raise CheckFailed(
                f"the docker bridge network has no gateway address (and {name or 'docker0'} "
                "has no IPv4 address here)"
            )
        return address

    def published(self, container: str) -> str:
        port = self.docker("port", container, "8000/tcp").splitlines()[0]
        return "http://" + port.replace("0.0.0.0", "127.0.0.1")

    def process_uids(self, container: str) -> set[int]:
        """The real uids of the container's processes, read from this host's /proc."""
        pid = int(self.docker("inspect", "-f", "{{.State.Pid}}", container))
        uids: set[int] = set()
        todo = [pid]
        while todo:
            p = todo.pop()
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith("Uid:"):
                        uids.add(int(line.split()[1]))
                children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
                todo.extend(int(c) for c in children)
        return uids

    def single_container(self) -> None:
        suffix = secrets.token_hex(4)
        name = f"showkeeper-ci-{suffix}"
        volume = f"showkeeper-ci-config-{suffix}"
        library = self.work / "library"
        library.mkdir()  # as docker makes a missing bind-mount source: root's and empty
        gateway = self.bridge_gateway()
        feed = FeedServer(gateway, self.media)
        self.docker("volume", "create", "--label", LABEL, volume)
        try:
            self._single(name, volume, library, gateway, feed)
        finally:
            feed.close()
            self.docker("rm", "-f", "-v", name, timeout=60, check=False)
            self.docker("volume", "rm", "-f", volume, timeout=60, check=False)

    def _single(
        self, name: str, volume: str, library: Path, gateway: str, feed: FeedServer
    ) -> None:
        started = time.monotonic()
        self.docker(
            "run", "-d", "--name", name, "--label", LABEL,
            "-e", f"PUID={UID}", "-e", f"PGID={UID}",
            "-e", f"SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS={gateway}/32",
            "-p", "127.0.0.1::8000",
            "-v", f"{volume}:/config", "-v", f"{library}:/library",
            self.image,
        )  # fmt: skip
        base = self.published(name)
        with self.logs_on_failure(name):
            wait_for("/health answering", lambda: health_ok(base), HEALTH_LIMIT_S, every=0.05)
            self.results["start_to_health_s"] = round(time.monotonic() - started, 2)
            uids = self.process_uids(name)
            if uids != {UID}:
                raise CheckFailed(f"the container's processes run as uids {sorted(uids)}")
            print(f"     /health after {self.results['start_to_health_s']} s, uid {UID}")
            self.docker("exec", name, "showkeeper-healthcheck", timeout=20)  # HEALTHCHECK's

            api_key, key = self.setup_and_add_feed(base, feed)
            paths = self.download_feed(base, api_key, key, library, "download_s")

            started = time.monotonic()
            self.docker("stop", "-t", str(int(STOP_LIMIT_S)), name, timeout=STOP_LIMIT_S + 20)
            self.results["stop_s"] = round(time.monotonic() - started, 2)
            code = self.docker("inspect", "-f", "{{.State.ExitCode}}", name)
            if self.results["stop_s"] >= STOP_LIMIT_S or code != "0":
                raise CheckFailed(
                    f"docker stop took {self.results['stop_s']} s, exit code {code} "
                    f"(wanted < {STOP_LIMIT_S:.0f} s and 0: a clean stop on SIGTERM)"
                )

            started = time.monotonic()
            self.docker("start", name)
            base = self.published(name)
            wait_for("/health after a restart", lambda: health_ok(base), HEALTH_LIMIT_S)
            self.results["restart_to_health_s"] = round(time.monotonic() - started, 2)
            answer = expect(
                *call("GET", f"{base}/api/series/{key}/loading-status", api_key=api_key),
                200,
                "the series after a restart",
            )
            if answer["episodes"] != 2 or not all(p.is_file() for p in paths):
                raise CheckFailed(f"data lost over the restart: {answer}")
            answer = call("POST", f"{base}/api/auth/setup", {"password": PASSWORD}, api_key=api_key)
            expect(*answer, 409, "setup after a restart (done before it)")

    def logs(self, container: str, *args: str) -> str:
        """A container's output (its stdout and stderr); empty when docker cannot tell."""
        try:
            return subprocess.run(
                [self.args.docker, "logs", *args, container],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=20,
                check=False,
            ).stdout
        except (subprocess.SubprocessError, OSError):
            return ""

    @contextlib.contextmanager
    def logs_on_failure(self, *containers: str) -> Iterator[None]:
        try:
            yield
        except CheckFailed:
            for container in containers:
                tail = self.logs(container, "--tail", "30")
                print(f"--- last log lines of {container}:\n{tail}", flush=True)
            raise

    def setup_and_add_feed(self, base: str, feed: FeedServer) -> tuple[str, str]:
        answer = expect(
            *call(
                "POST", f"{base}/api/auth/setup", {"password": PASSWORD, "library_dir": "/library"}
            ),
            201,
            "POST /api/auth/setup",
        )
        api_key = answer["api_key"]
        answer = expect(
            *call(
                "POST",
                f"{base}/api/series",
                {"url": f"{feed.base}/feed.xml", "kind": "feed"},
                api_key=api_key,
            ),
            202,
            "POST /api/series",
        )
        key = answer["key"]

        def loaded() -> dict[str, Any] | None:
            answer = expect(
                *call("GET", f"{base}/api/series/{key}/loading-status", api_key=api_key),
                200,
                "loading status",
            )
            if answer["status"] == "failed":
                raise CheckFailed(f"loading the feed failed: {answer['error']}")
            return answer if answer["status"] == "completed" else None

        answer = wait_for("the feed loading", loaded, 30, every=0.2)
        if answer["episodes"] != 2:
            raise CheckFailed(f"the feed gave {answer['episodes']} episodes, not 2")
        return api_key, key

    def download_feed(
        self, base: str, api_key: str, key: str, library: Path, result: str
    ) -> list[Path]:
        """Queue the series' two episodes, wait for both, check the files in the library."""
        started = time.monotonic()
        answer = expect(
            *call("POST", f"{base}/api/queue/add", {"series_key": key}, api_key=api_key),
            201,
            "POST /api/queue/add",
        )
        if answer["added"] + len(answer["already_queued"]) != 2:
            raise CheckFailed(f"queueing the episodes: {answer}")

        last: dict[str, Any] = {}

        def done() -> bool:
            answer = expect(
                *call("GET", f"{base}/api/queue/status", api_key=api_key), 200, "queue status"
            )
            last.update(answer)
            if answer["failed"]:
                raise CheckFailed(f"a download failed: {answer['failed']}")
            return answer["counts"].get("completed", 0) >= 2

        try:
            wait_for("the downloads", done, 90, every=0.2)
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}; the queue: {json.dumps(last)}") from None
        self.results[result] = round(time.monotonic() - started, 2)
        files = sorted(p for p in library.rglob("*") if p.is_file() and p.suffix == ".mp4")
        if len(files) != 2:
            raise CheckFailed(f"wanted two MP4 files in the library, found {files}")
        direct = (self.media / "ep1.mp4").read_bytes()
        if not any(p.read_bytes() == direct for p in files):
            raise CheckFailed("no file in the library is the MP4 the feed served")
        for path in files:
            if path.read_bytes()[4:8] != b"ftyp":
                raise CheckFailed(f"{path} is not an MP4")
            owner = path.stat()
            if (owner.st_uid, owner.st_gid) != (UID, UID):
                raise CheckFailed(
                    f"{path} belongs to {owner.st_uid}:{owner.st_gid}, not {UID}:{UID}"
                )
            print(f"     {path.relative_to(library)}: {owner.st_size} bytes, {UID}:{UID}")
        return files

    # -- 3. compose ----------------------------------------------------------------------------

    def compose(self, *args: str, env: dict[str, str], timeout: float = 120) -> str:
        return run(
            [*shlex.split(self.args.compose), *args], timeout=timeout, env={**os.environ, **env}
        )

    def compose_config(self) -> None:
        env = {"POSTGRES_PASSWORD": "checkonly"}
        self.compose("-f", str(ROOT / "docker-compose.yml"), "config", "-q", env=env)
        self.compose("-f", str(ROOT / "docker-compose.postgres.yml"), "config", "-q", env=env)

    def compose_single(self) -> None:
        """docker-compose.yml as a self-hoster runs it: up, /health, files owned by PUID."""
        config, library = self.work / "config-single", self.work / "library-single"
        override = self.work / "compose.single.ci.json"  # JSON is YAML: the image under test
        labels = {"showkeeper.ci": "1"}
        override.write_text(
            json.dumps({"services": {"showkeeper": {"image": self.image, "labels": labels}}})
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            "CONFIG_DIR": str(config),
            "LIBRARY_DIR": str(library),
            "HTTP_PORT": str(port),
            "PUID": str(UID),
            "PGID": str(UID),
        }
        files = ["-p", f"{COMPOSE_PROJECT}-single", "-f", str(ROOT / "docker-compose.yml")]
        files += ["-f", str(override)]
        try:
            self.compose(*files, "up", "-d", "--no-build", env=env, timeout=120)
            [container] = self.compose(*files, "ps", "-q", env=env).split()
            with self.logs_on_failure(container):
                base = f"http://127.0.0.1:{port}"
                wait_for("/health", lambda: health_ok(base), 30, every=0.1)
                uids = self.process_uids(container)
                owners = {(p.stat().st_uid, p.stat().st_gid) for p in (config, library)}
                if uids != {UID} or owners != {(UID, UID)}:
                    raise CheckFailed(
                        f"processes run as {sorted(uids)}, ./config and ./library belong to "
                        f"{sorted(owners)} (wanted {UID} and {UID}:{UID})"
                    )
        finally:
            with contextlib.suppress(CheckFailed):
                self.compose(*files, "down", "-v", "-t", "10", env=env, timeout=90)

    def compose_postgres(self) -> None:
        started = time.monotonic()
        pg_image = "showkeeper-ci-postgres:15"
        self.docker(
            "build", "-q", "--force-rm", "--build-arg", f"BASE={self.args.base}", "--label", LABEL,
            "-t", pg_image, str(ROOT / "tests" / "container" / "postgres"), timeout=240,
        )  # fmt: skip
        library = self.work / "library-compose"
        library.mkdir()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            "CI_IMAGE": self.image,
            "CI_POSTGRES_IMAGE": pg_image,
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "LIBRARY_DIR": str(library),
            "HTTP_PORT": str(port),
            "PUID": str(UID),
            "PGID": str(UID),
        }
        files = [
            "-p",
            COMPOSE_PROJECT,
            "-f",
            str(ROOT / "docker-compose.postgres.yml"),
            "-f",
            str(ROOT / "tests" / "container" / "compose.ci.yml"),
        ]
        down = [*files, "down", "-v", "--remove-orphans", "-t", "10"]
        self.compose(*down, env=env, timeout=90)  # what a killed run may have left
        feed: FeedServer | None = None
        try:
            self.compose(
                *files, "up", "-d", "--no-build", "--scale", "worker=2", env=env, timeout=180
            )
            ids = self.compose(*files, "ps", "-q", env=env).split()
            names = [self.docker("inspect", "-f", "{{.Name}}", i).lstrip("/") for i in ids]
            with self.logs_on_failure(*names):
                base = f"http://127.0.0.1:{port}"
                wait_for("the API's /health", lambda: health_ok(base), 60, every=0.2)
                workers = self.compose(*files, "ps", "-q", "worker", env=env).split()
                running = [
                    w
                    for w in workers
                    if self.docker("inspect", "-f", "{{.State.Running}}", w) == "true"
                ]
                if len(running) != 2:
                    raise CheckFailed(f"{len(running)} worker containers run, not 2")
                feed = FeedServer(COMPOSE_GATEWAY, self.media)
                api_key, key = self.setup_and_add_feed(base, feed)
                self.download_feed(base, api_key, key, library, "compose_download_s")
                by_worker = [self.logs(w).count("download complete") for w in running]
                api = self.compose(*files, "ps", "-q", "api", env=env).split()
                if sum(by_worker) != 2 or "download complete" in self.logs(*api):
                    raise CheckFailed(
                        f"the workers logged {by_worker} downloads, not 2 between them "
                        "(or the API downloaded)"
                    )
                self.results["compose_downloads_per_worker"] = by_worker
                self.results["compose_s"] = round(time.monotonic() - started, 1)
        finally:
            if feed is not None:
                feed.close()
            with contextlib.suppress(CheckFailed):
                self.compose(*down, env=env, timeout=90)

    # -- all -------------------------------------------------------------------------------------

    def image_size_and_labels(self) -> None:
        size = int(self.docker("image", "inspect", "-f", "{{.Size}}", self.image))
        self.results["image_size_mb"] = round(size / 1e6, 1)
        labels = json.loads(
            self.docker("image", "inspect", "-f", "{{json .Config.Labels}}", self.image)
        )
        init = (ROOT / "src" / "showkeeper" / "__init__.py").read_text()
        version = init.split("__version__ = ", 1)[1].split()[0].strip("\"'")
        if labels.get("org.opencontainers.image.version") != version:
            raise CheckFailed(f"the image's version label is not {version}: {labels}")
        self.results["version"] = version

    def run_all(self) -> int:
        try:
            self.check("image size and labels", self.image_size_and_labels)
            ok = self.check("the image's ffmpeg makes an MP4 and an HLS stream", self.ffmpeg)
            if ok:
                self.check(
                    "one container: uid 1000, /health, setup, download, stop, restart",
                    self.single_container,
                )
            if self.args.compose:
                if self.check("compose files: config", self.compose_config) and ok:
                    self.check(
                        "docker-compose.yml: up -d, /health, files owned by PUID:PGID",
                        self.compose_single,
                    )
                    self.check(
                        "compose with PostgreSQL, the API and two workers: the feed downloaded",
                        self.compose_postgres,
                    )
                self.results["compose"] = self.args.compose
            else:
                print(
                    "note: no compose tool (docker compose or docker-compose); "
                    "the compose files were not checked"
                )
                self.results["compose"] = None
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
        size = self.results.get("image_size_mb")
        start = self.results.get("start_to_health_s")
        self.results["goal_size_mb"] = GOAL_SIZE_MB
        self.results["goal_start_s"] = GOAL_START_S
        self.results["goals_met"] = (
            size is not None
            and size <= GOAL_SIZE_MB
            and start is not None
            and start <= GOAL_START_S
        )
        if size is not None and size > GOAL_SIZE_MB:
            print(f"warning: the image is {size} MB, over the goal of {GOAL_SIZE_MB} MB")
        if start is not None and start > GOAL_START_S:
            print(f"warning: /health took {start} s, over the goal of {GOAL_START_S} s")
        if self.args.step_started:
            self.results["container_step_s"] = round(time.time() - float(self.args.step_started), 1)
        print(json.dumps(self.results), flush=True)
        print(f"container checks: {self.passed} ok, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker", default="docker", help="the docker client")
    parser.add_argument("--image", default="showkeeper:latest")
    parser.add_argument("--base", default="local/debian:bookworm", help="the image's base")
    parser.add_argument("--compose", default="", help='"docker compose" or docker-compose')
    parser.add_argument("--build-seconds", default="", help="reported in the JSON line")
    parser.add_argument(
        "--step-started", default="", help="epoch seconds: the whole step's time is reported"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("the image checks run as root (they read /proc and chown test folders)")
        return 1
    # the classic builder, as docker/image.sh uses: a newer client would ask for buildx
    os.environ["DOCKER_BUILDKIT"] = "0"
    return Checks(args).run_all()


if __name__ == "__main__":
    sys.exit(main())
