"""Rename benchmark: `showkeeper rename` against one `python -c` doing os.rename of the same files.

Builds a library of N series x M episodes (empty files named "<Series> - S01E01.mkv", marked
downloaded in a fresh SQLite database), so the default template ("... - Episode N") renames
every file. Then, each timed from process start to exit as a user runs it:

- the reference: one `python -c` that reads the list of (old, new) paths and calls os.rename
  for each (a shell loop of `mv` would start a process per file, which is unfair to `mv`);
- `showkeeper rename` (all series, default settings): plan, journal, rename, database update.

Both run on their own copy of the same tree, with a warm cache. The run checks that every
file is at its new name and that the database agrees.

    python bench/rename.py                 # 200 series x 50 episodes = 10,000 files
    python bench/rename.py --series 20     # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/ holds scripts named like stdlib modules (queue.py): never import from there
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

REFERENCE = """
import json, os, sys
root = sys.argv[1]
for old, new in json.load(open(sys.argv[2])):
    os.rename(os.path.join(root, old), os.path.join(root, new))
"""


def names(n_series: int, episodes: int) -> list[tuple[str, str, str]]:
    """(series folder, old relative path, new relative path) for every file."""
    out = []
    for i in range(n_series):
        name = f"Series {i:04d}"
        for e in range(1, episodes + 1):
            old = f"{name}/Season 01/{name} - S01E{e:02d}.mkv"
            new = f"{name}/Season 01/{name} - S01E{e:02d} - Episode {e}.mkv"
            out.append((name, old, new))
    return out


def make_tree(root: Path, files: list[tuple[str, str, str]]) -> None:
    root.mkdir()
    for _folder, old, _new in files:
        path = root / old
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True)
        path.touch()


async def make_database(env: dict[str, str], files: list[tuple[str, str, str]]) -> Path:
    from showkeeper.config import load_settings
    from showkeeper.context import open_context

    settings = load_settings(env_file=None, data_dir=Path(env["SHOWKEEPER_DATA_DIR"]))
    async with open_context(settings):
        pass  # migrated
    db_path = Path(env["SHOWKEEPER_DATA_DIR"]) / "showkeeper.db"
    con = sqlite3.connect(db_path)
    now = "2026-12-01 00:00:00.000000"
    folders = sorted({f for f, _o, _n in files})
    con.executemany(
        "INSERT INTO series (key, folder, name, source_kind, monitored, loading_status, options,"
        " source_state, created_at, updated_at) VALUES (?, ?, ?, 'feed', 1, 'completed', '{}',"
        " '{}', ?, ?)",
        [(f.lower().replace(" ", "-"), f, f, now, now) for f in folders],
    )
    ids = dict(con.execute("SELECT folder, id FROM series"))
    rows = []
    for folder, old, _new in files:
        number = int(old.rsplit("E", 1)[1].split(".")[0])
        rows.append((ids[folder], number, f"Episode {number}", old, now, now))
    con.executemany(
        "INSERT INTO episodes (series_id, season, episode, title, candidates, at_source,"
        " monitored, filtered, is_downloaded, ignored, file_path, size, created_at, updated_at)"
        " VALUES (?, 1, ?, ?, '[]', 1, 1, 0, 1, 0, ?, 0, ?, ?)",
        rows,
    )
    con.commit()
    con.close()
    return db_path


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of a command, from start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--episodes", type=int, default=50)
    args = parser.parse_args()
    files = names(args.series, args.episodes)
    with tempfile.TemporaryDirectory(prefix="sk-bench-rename-") as tmp:
        base = Path(tmp)
        ref_root, sk_root, data = base / "ref", base / "lib", base / "data"
        data.mkdir()
        make_tree(ref_root, files)
        make_tree(sk_root, files)
        pairs = base / "pairs.json"
        pairs.write_text(json.dumps([[old, new] for _f, old, new in files]))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
        env.update(
            SHOWKEEPER_DATA_DIR=str(data),
            SHOWKEEPER_LIBRARY_DIR=str(sk_root),
            SHOWKEEPER_LOG_LEVEL="WARNING",
        )
        db_path = asyncio.run(make_database(env, files))
        os.sync()

        reference_s, reference_cpu = timed(
            [sys.executable, "-c", REFERENCE, str(ref_root), str(pairs)]
        )
        showkeeper = shutil.which("showkeeper", path=str(Path(sys.executable).parent))
        argv = [showkeeper] if showkeeper else [sys.executable, "-m", "showkeeper"]
        showkeeper_s, showkeeper_cpu = timed([*argv, "rename"], env)
        # the same command with nothing to do (plans all 10,000 files, moves none), and on an
        # empty library (start-up: imports, settings, database open) for the breakdown
        empty_s, empty_cpu = timed([*argv, "rename"], env)
        (base / "empty-data").mkdir()
        (base / "empty-lib").mkdir()
        bare = {
            **env,
            "SHOWKEEPER_DATA_DIR": str(base / "empty-data"),
            "SHOWKEEPER_LIBRARY_DIR": str(base / "empty-lib"),
        }
        timed([*argv, "rename"], bare)  # creates and migrates the database
        start_s, start_cpu = timed([*argv, "rename"], bare)

        moved = all((sk_root / new).is_file() for _f, _o, new in files)
        ref_moved = all((ref_root / new).is_file() for _f, _o, new in files)
        con = sqlite3.connect(db_path)
        db_paths = {p for (p,) in con.execute("SELECT file_path FROM episodes")}
        batches = con.execute("SELECT count(*) FROM rename_batches WHERE status = 'applied'")
        applied = batches.fetchone()[0]
        con.close()
        db_agrees = db_paths == {new for _f, _o, new in files}
    ratio = showkeeper_s / reference_s
    print(
        json.dumps(
            {
                "bench": "rename",
                "files": len(files),
                "series": args.series,
                "reference": "python -c os.rename loop",
                "reference_s": round(reference_s, 3),
                "showkeeper": "showkeeper rename",
                "showkeeper_s": round(showkeeper_s, 3),
                "ratio": round(ratio, 2),
                "goal": 3,
                "reference_cpu_s": round(reference_cpu, 3),
                "showkeeper_cpu_s": round(showkeeper_cpu, 3),
                "cpu_ratio": round(showkeeper_cpu / reference_cpu, 2),
                "showkeeper_nothing_to_do_s": round(empty_s, 3),
                "showkeeper_nothing_to_do_cpu_s": round(empty_cpu, 3),
                "showkeeper_startup_s": round(start_s, 3),
                "showkeeper_startup_cpu_s": round(start_cpu, 3),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "met": ratio <= 3,
                "all_moved": moved and ref_moved,
                "database_agrees": db_agrees,
                "batches": applied,
            }
        )
    )


if __name__ == "__main__":
    main()
