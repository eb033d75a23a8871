"""Start each cold-start run from a tiny process, so peak RSS is the child's own.

Why not ``subprocess`` from the benchmark itself: Linux records the *old* address space's
high-water RSS when a process calls exec, and ``subprocess`` forks (vfork) from the big
benchmark process, so every child would report the parent's hundreds of MB as its peak.
Run as ``python -I -S launcher.py SCHEDULE RESULTS``; it imports only built-in modules and
stays at a few MB, below any Python child, so ``ru_maxrss`` from ``wait4`` is the child's.

SCHEDULE (``marshal``) is a list of ``(argv, env, cwd, stdout_path, stderr_path, cpus)``,
``cpus`` a list of CPU numbers to pin the child to (empty: any CPU, as inherited); RESULTS
(``marshal``) gets, per run, ``(wall_s, cpu_s, maxrss_kib, wait_status)``, then the launcher's
own peak RSS in KiB as the last item.
"""

import marshal
import os
import sys
import time
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


def _exec_child(
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    stdout_path: str,
    stderr_path: str,
    cpus: list[int],
) -> None:
    """In the forked child: pin, redirect output and become the measured program.

    Pinning here rather than with ``taskset`` keeps an extra exec out of the timing.
    """
    try:
        if cpus:
            os.sched_setaffinity(0, cpus)
        os.chdir(cwd)
        os.dup2(os.open(stdout_path, _WRITE_FLAGS, 0o644), 1)
        os.dup2(os.open(stderr_path, _WRITE_FLAGS, 0o644), 2)
        os.closerange(3, 256)
        os.execve(argv[0], argv, env)
    finally:
        os._exit(127)


def run_one(job: tuple[Any, ...]) -> tuple[float, float, int, int]:
    """Fork, exec, wait: wall time around it all, CPU and peak RSS from ``wait4``."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        _exec_child(*job)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, status)


def own_peak_kib() -> int:
    """This launcher's peak RSS: the smallest peak the measurement can resolve."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main() -> None:
    with open(sys.argv[1], "rb") as schedule_file:
        schedule = marshal.load(schedule_file)
    results: list[object] = [run_one(job) for job in schedule]
    results.append(own_peak_kib())
    with open(sys.argv[2], "wb") as results_file:
        marshal.dump(results, results_file)


if __name__ == "__main__":
    main()
