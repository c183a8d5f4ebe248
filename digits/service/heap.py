"""How a worker's heap gives memory back: every block over 1 MiB its own mapping."""

import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3
LARGE_BLOCK = 1 << 20


def return_large_blocks(threshold=LARGE_BLOCK):
    """Have glibc map every allocation over `threshold` bytes apart and unmap it when freed.

    Otherwise glibc serves a large allocation from the heap once a block that large has been
    freed, and keeps that heap: a worker would stay at the size of the largest image it ever
    decoded. The price is that each large block's pages are faulted in anew (bench/worst.py
    measures under it). Elsewhere than glibc there is no mallopt, and nothing is done.
    """
    try:
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(_M_MMAP_THRESHOLD, threshold)
    except (OSError, AttributeError, TypeError):
        pass
