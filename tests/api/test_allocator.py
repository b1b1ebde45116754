"""The API keeps the memory it frees: a trend-sized answer no longer faults its pages in anew."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# 200 answers shaped like a 10M-row trend (229 months of 2.2 KB, joined, copied and wrapped),
# then the page faults they cost this fresh interpreter.
ANSWERS = """
import resource, sys
from txn_api.allocator import keep_freed_memory
tuned = sys.argv[1] == "tuned" and keep_freed_memory()
month = b"x" * 2200
def answer():
    joined = b",".join([month] * 229)
    return b"[" + bytes(bytearray(joined)) + b"]"
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    answer()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", ANSWERS, mode],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_answers_reuse_freed_memory_instead_of_faulting_it_in_again():
    default, tuned = _page_faults("default"), _page_faults("tuned")

    # Each answer's ~1.5 MB would be ~370 fresh pages: by default nearly all of them fault.
    assert default > 200 * 100
    assert tuned < default / 20
