"""Time zones come from the tzdata package, with Morocco's 2026 rule (UTC+00 all year)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest

from storage.zones import UnknownZone, from_utc_text, local_to_utc, to_utc_text, zone


def test_zoneinfo_reads_only_the_tzdata_package() -> None:
    assert zoneinfo.TZPATH == ()


@pytest.mark.parametrize(
    ("wall_time", "expected"),
    [
        ("2026-12-10T10:00", "2026-12-10T10:00:00Z"),  # after 2026-09-20: UTC+00
        ("2027-07-01T10:00", "2027-07-01T10:00:00Z"),  # summer too, no more +01
    ],
)
def test_casablanca_wall_time_is_stored_as_utc(wall_time: str, expected: str) -> None:
    stored = to_utc_text(local_to_utc(datetime.fromisoformat(wall_time), "Africa/Casablanca"))
    assert stored == expected


def test_utc_text_round_trips() -> None:
    moment = local_to_utc(datetime(2026, 12, 10, 10), "Africa/Casablanca")
    assert from_utc_text(to_utc_text(moment)) == moment


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(UnknownZone):
        zone("Mars/Olympus_Mons")
