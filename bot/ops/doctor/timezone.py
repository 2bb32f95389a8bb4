"""The installed time zone data has Morocco's 2026 rule: sessions and reminders are shown in
Africa/Casablanca, and old data would put them an hour off."""

from __future__ import annotations

from datetime import datetime, tzinfo

import tzdata

from bot.ops.doctor.findings import Finding
from storage.zones import zone

MOROCCO = "Africa/Casablanca"


def check_morocco(
    moroccan_zone: tzinfo | None = None, version: str = tzdata.IANA_VERSION
) -> Finding:
    """Africa/Casablanca as the tzdata package has it: UTC+01 with UTC+00 during Ramadan
    until 2026-09-20, then UTC+00 all year (the 2026 change; older data keeps +01)."""
    local = moroccan_zone if moroccan_zone is not None else zone(MOROCCO)
    expected = {
        datetime(2026, 3, 1, 12): 0,  # Ramadan 2026 (~Feb 18 – Mar 19): UTC+00
        datetime(2026, 6, 15, 12): 1,  # before the change: UTC+01
        datetime(2027, 7, 1, 12): 0,
    }  # after 2026-09-20: UTC+00 all year
    found = {moment: _offset_hours(moment, local) for moment in expected}
    wrong = [
        f"{moment:%Y-%m-%d} is UTC{found[moment]:+03d}, expected UTC{expected[moment]:+03d}"
        for moment in expected
        if found[moment] != expected[moment]
    ]
    if wrong:
        return Finding(
            "FAIL",
            "tzdata",
            f"tzdata {version}: {MOROCCO} has the wrong rule (" + "; ".join(wrong) + ")",
            "upgrade the tzdata package in formabot's venv (pip install -U"
            " tzdata), then restart the service",
        )
    return Finding(
        "OK",
        "tzdata",
        f"tzdata {version}: {MOROCCO} has Morocco's 2026 rule"
        " (UTC+00 in Ramadan, UTC+00 all year from 2026-09-20)",
    )


def _offset_hours(moment: datetime, local: tzinfo) -> int:
    offset = moment.replace(tzinfo=local).utcoffset()
    return round(offset.total_seconds() / 3600) if offset is not None else 0
