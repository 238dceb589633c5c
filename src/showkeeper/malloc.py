"""glibc's allocator and large short-lived buffers.

glibc serves a request of at least the mmap threshold (128 KiB at first) with its own mmap
and unmaps it on free; but freeing such a block raises the threshold to the block's size
(and the trim threshold to twice that), so from then on blocks of that size come from the
thread's heap and stay resident after free. Argon2's 19 MiB working memory is such a block:
without this, the first password hash makes every later hash, in every worker thread that
runs one, keep its 19 MiB for the life of the process (tens of MB in a server).

:func:`pin_mmap_threshold` sets the threshold once, which also turns glibc's adjustment
off: a block of 1 MiB or more is always mapped for itself and returned when freed. Smaller
allocations are unaffected. Elsewhere (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

M_MMAP_THRESHOLD = -3
"""mallopt's parameter number in glibc's malloc.h."""
THRESHOLD_BYTES = 1024 * 1024


@cache
def pin_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at 1 MiB; True when it was set (glibc only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES))
