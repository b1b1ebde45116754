"""glibc's malloc, told to keep the memory the API frees rather than hand it back at once.

A whole trend is half a megabyte at 10M rows, and each answer allocates and frees its size a few
times over (libpq's result, the months as bytes, the joined answer). By default glibc serves
blocks that large by mmap until its adaptive threshold rises, and returns any free top of its
heap past 128 KiB to the kernel: the next answer then faults the same pages in again, eight
`brk` calls per trend. Kept, the process holds what its busiest moment needed, which the
benchmarks' peak RSS shows (bench/README.md); with the wider receive buffer (txn_api.db), a
trend costs the API half the CPU it did.
"""

from __future__ import annotations

import ctypes
import platform

# mallopt's parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # the largest glibc takes on 64-bit machines
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Tune glibc's malloc for this process; False, and nothing changed, under another C
    library (musl, macOS), whose allocators behave otherwise."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)  # the C library this process already runs on
    return bool(
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
