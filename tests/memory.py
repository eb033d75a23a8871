"""Peak memory of the current process, as the tests measure it in fresh interpreters."""

from __future__ import annotations

import resource


def peak_rss() -> int:
    """This process's peak resident set in bytes (the kernel's VmHWM).

    ``resource.getrusage().ru_maxrss`` is not used alone: Linux keeps it across fork and
    exec, so a child started by a large pytest process reports its parent's peak.
    VmHWM belongs to the address space, which exec replaces.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover


def reset_peak_rss() -> bool:
    """Start a new peak from the current RSS (Linux >= 4.0); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True
