import asyncio
from pathlib import Path

from showkeeper.library.readers import PROCESS_MIN_FOLDERS, FolderReader, wants_process
from showkeeper.library.scanner import FolderPlan, list_root
from tests.unit.library.trees import make_tree


def plans_for(root: Path) -> list[FolderPlan]:
    return [FolderPlan(name, mtime) for name, mtime in list_root(str(root)).folders]


async def test_a_worker_process_reads_what_a_thread_reads(tmp_path: Path) -> None:
    root = tmp_path / "library"
    make_tree(
        root,
        [
            "Show/Season 01/Show S01E01.mkv",
            "Show/Season 01/Show 1x02.mkv",
            "Show/Specials/01 - Special.mkv",
            "Show/Season 01/Behind the scenes.mkv",
            "Other/Other - 2024-05-01.mp3",
        ],
        size=5,
    )
    (root / "Other/key").write_text("other\n")
    plans = [FolderPlan(p.name, p.mtime_ns, identify=p.name == "Other") for p in plans_for(root)]
    async with FolderReader(str(root), process=False) as reader:
        in_thread = await reader.read(plans)
    async with FolderReader(str(root), process=True) as reader:
        first = await reader.read(plans[:1])
        second = await reader.read(plans[1:])  # the same worker answers again
        assert reader.reads_in_process == 2
    assert first + second == in_thread
    assert {f.path for scan in in_thread for f in scan.files} == {
        "Other/Other - 2024-05-01.mp3",
        "Show/Season 01/Show S01E01.mkv",
        "Show/Season 01/Show 1x02.mkv",
        "Show/Specials/01 - Special.mkv",
        "Show/Season 01/Behind the scenes.mkv",
    }


async def test_cancelling_a_read_stops_the_worker(tmp_path: Path) -> None:
    root = tmp_path / "library"
    make_tree(root, [f"Show {n}/S01E01.mkv" for n in range(50)])
    reader = FolderReader(str(root), process=True)
    async with reader:
        task = asyncio.ensure_future(reader.read(plans_for(root)))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert reader._proc is None  # killed: its pipe could hold half an answer
        # and the reader still works, in a thread
        assert len(await reader.read(plans_for(root))) == 50


def test_a_process_only_for_big_reads() -> None:
    new = [FolderPlan(f"S{n}", 1) for n in range(PROCESS_MIN_FOLDERS)]
    known = [FolderPlan(f"S{n}", 1, {f"S{n}": 1}) for n in range(PROCESS_MIN_FOLDERS)]
    assert wants_process(new) is True
    assert wants_process(new[:-1]) is False
    assert wants_process(known) is False  # a rescan: most folders will turn out unchanged
    assert wants_process([FolderPlan(p.name, 1, p.recorded, force=True) for p in known])
