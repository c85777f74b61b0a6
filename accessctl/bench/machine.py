"""CPU time as Linux counts it: another process's (all its threads), and the whole machine's busy time."""

from __future__ import annotations

import os
from pathlib import Path


def process_cpu_s(pid: int) -> float | None:
    """Seconds of CPU the process `pid` has used so far, all its live threads together, to the nanosecond
    (`/proc/<pid>/task/*/schedstat`); None when it cannot be read here (gone, or another machine's)."""
    try:
        return (
            sum(int((task / "schedstat").read_text().split()[0]) for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9
        )
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_s() -> float:
    """Seconds every core of this machine has spent working so far: user, nice, system, irq and softirq time in
    `/proc/stat` (idle, I/O wait and time stolen by the hypervisor are not work done here)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def usable_cores() -> int:
    """The cores this process may run on (its affinity, which containers may narrow)."""
    return len(os.sched_getaffinity(0))
