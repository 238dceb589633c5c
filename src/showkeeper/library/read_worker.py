"""The scan's worker process: ``python -P -m showkeeper.library.read_worker``.

It reads series folders for its parent (readers.py) and nothing else. Both directions carry
frames of an 8-byte big-endian length and a pickle: requests ``(root, plans, now_ns)``, replies
``("ok", list[FolderScan])`` or ``("error", message)``. It exits when its input closes. Only
its parent talks to it, so unpickling what arrives is safe.
"""

from __future__ import annotations

import pickle
import sys
from typing import IO, Any

from showkeeper.library.scanner import scan_folders


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next frame's object, or None at the end of the stream."""
    header = stream.read(8)
    if len(header) < 8:
        return None
    size = int.from_bytes(header, "big")
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)  # noqa: S301 - our own parent, over a private pipe


def frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(8, "big") + data


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (request := read_frame(stdin)) is not None:
        root, plans, now_ns = request
        try:
            reply: tuple[str, Any] = ("ok", scan_folders(root, plans, now_ns=now_ns))
        except Exception as exc:  # the parent reports it and reads in a thread instead
            reply = ("error", f"{type(exc).__name__}: {exc}")
        stdout.write(frame(reply))
        stdout.flush()


if __name__ == "__main__":
    main()
