"""The caregiver's laptop time zone, the default for the wearer's (the device counts days in it).

tzlocal reads it the way each system keeps it: TZ, /etc/timezone, /etc/localtime or timedatectl
on Linux, the /etc/localtime link on macOS, the registry on Windows (mapped to an IANA name).
"""

from __future__ import annotations

import warnings

from device.config import ConfigError, check_timezone


def laptop_timezone() -> str:
    """This computer's IANA zone name; UTC when it cannot be found or is not an IANA name."""
    candidates: list[str] = []
    try:
        import tzlocal

        with warnings.catch_warnings():  # "defaulting to UTC": we say so ourselves
            warnings.simplefilter("ignore")
            tzlocal.reload_localzone()  # read now, not a value cached earlier in this process
            candidates.append(str(tzlocal.get_localzone_name() or ""))
    except (ImportError, LookupError, ValueError, OSError):
        pass  # not installed, or TZ names no known zone: fall back below
    from hostsync.pull import local_timezone  # the Linux-only reading, without tzlocal

    candidates.append(local_timezone())
    for name in candidates:
        try:
            check_timezone(name)
            return name
        except ConfigError:
            continue
    return "UTC"
