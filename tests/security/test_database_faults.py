"""The database in trouble while `formabot run` serves both channels: another writer holding
its lock, the disk under it full. `/healthz` says so at once, people's messages wait or are
answered "try again later" in their language, WhatsApp gets no 500 (Twilio would retry),
and nothing logs a traceback. The real things: a second connection holding `BEGIN
IMMEDIATE`, a real full filesystem (a small tmpfs in a mount namespace of the bot's own)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.running import RunningBot, wait_for, write_both_channels_config
from tests.telegram.chat import AMINA
from tests.telegram.support import free_port
from tests.whatsapp.phone import inbound_form, sign

NUMBER = "+212612345678"
ENV = {
    "FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "FORMABOT_TELEGRAM_TOKEN": TOKEN,
}
TRY_LATER = (
    "Désolé, nous ne pouvons pas traiter votre message pour le moment. Veuillez"
    " réessayer dans quelques minutes."
)


def post_message(running: RunningBot, text: str) -> httpx.Response:
    form = inbound_form(NUMBER, text)
    return running.post("/whatsapp/inbound", form, sign("/whatsapp/inbound", form))


def test_a_writer_holding_the_database_delays_answers_and_loses_none(
    tmp_path: Path, own_bot_api: FakeBotAPI, twilio: FakeTwilio
) -> None:
    port = free_port()
    running = RunningBot(write_both_channels_config(tmp_path, own_bot_api, twilio, port), ENV, port)
    holder = sqlite3.connect(tmp_path / "formabot.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's long write
        own_bot_api.text(AMINA, "/start")
        assert post_message(running, "salam").status_code == 200  # at once: no Twilio retry
        # /healthz answers within its timeout (not held up), and within its cache's 5 s
        # it says why it is unhealthy
        wait_for(lambda: httpx.get(f"{running.url}/healthz", timeout=3).status_code == 503)
        reasons = httpx.get(f"{running.url}/healthz", timeout=3).json()["reasons"]
        assert [
            reason
            for reason in reasons
            if reason.startswith("database busy: another connection has held the write lock")
        ], reasons
        assert twilio.bodies(NUMBER) == []  # nothing answered yet: the messages wait…
        holder.execute("ROLLBACK")
        # …and are answered once the lock is free, on both channels
        wait_for(
            lambda: (
                twilio.bodies(NUMBER) and "Choisissez votre langue" in own_bot_api.transcript(AMINA)
            )
        )
        err = running.stop()
    finally:
        holder.close()
        running.kill()
    assert "Choisissez votre langue" in "\n".join(twilio.bodies(NUMBER))
    assert "Traceback" not in err and "TimedOut" not in err


def _can_mount_a_small_disk() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not _can_mount_a_small_disk(),
    reason="needs unprivileged user and mount namespaces (unshare -rm)",
)
def test_a_full_disk_is_named_by_healthz_and_people_are_asked_to_try_again_later(
    tmp_path: Path, own_bot_api: FakeBotAPI, twilio: FakeTwilio
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    port = free_port()
    config = write_both_channels_config(
        tmp_path, own_bot_api, twilio, port, database="disk/formabot.db"
    )
    # The bot sees a 24 MiB filesystem at `disk`; the test reaches it through /proc.
    mount = f'mount -t tmpfs -o size=24m tmpfs {disk} && exec "$0" "$@"'
    running = RunningBot(config, ENV, port, prefix=("unshare", "-rm", "sh", "-c", mount))
    try:
        seen = Path(f"/proc/{running.process.pid}/root") / disk.relative_to("/")
        assert httpx.get(f"{running.url}/healthz", timeout=5).json()["disk"]["free_bytes"] > 0
        db = sqlite3.connect(seen / "formabot.db")  # an empty WAL: a write must grow it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        with (
            (seen / "ballast").open("wb") as ballast,
            pytest.raises(OSError, match="No space left"),
        ):
            while True:  # fill the disk to the last byte
                ballast.write(b"\0" * 65536)
                ballast.flush()
        wait_for(lambda: httpx.get(f"{running.url}/healthz", timeout=3).status_code == 503)
        health = httpx.get(f"{running.url}/healthz", timeout=3)
        assert f"disk full: 0 bytes free on {disk} (the disk of the database, {disk})" in "\n".join(
            health.json()["reasons"]
        )
        own_bot_api.text(AMINA, "/start")
        assert post_message(running, "salam").status_code == 200
        wait_for(lambda: twilio.bodies(NUMBER) and TRY_LATER in own_bot_api.transcript(AMINA))
        assert twilio.bodies(NUMBER) == [TRY_LATER]
        (seen / "ballast").unlink()  # room again: the conversation carries on
        assert post_message(running, "salam").status_code == 200
        wait_for(lambda: "Choisissez votre langue" in "\n".join(twilio.bodies(NUMBER)))
        err = running.stop()
    finally:
        running.kill()
    assert "database full (database or disk is full)" in err
    assert "Traceback" not in err
