"""`formabot doctor` against the fake Bot API and the fake Twilio, on real SQLite files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli.main import cli
from bot.config import TelegramSettings, WhatsAppSettings
from bot.ops.doctor.database import check_database
from bot.ops.doctor.findings import Finding, render
from bot.ops.doctor.timezone import check_morocco
from bot.ops.doctor.urls import check_telegram_webhook, check_whatsapp_url
from storage import open_database
from storage.migrations import MIGRATIONS
from storage.zones import zone
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.telegram.support import free_port

SECRET_NAMES = (
    "FORMABOT_TELEGRAM_TOKEN",
    "FORMABOT_TELEGRAM_WEBHOOK_SECRET",
    "FORMABOT_TWILIO_ACCOUNT_SID",
    "FORMABOT_TWILIO_AUTH_TOKEN",
)
TELEGRAM = {"FORMABOT_TELEGRAM_TOKEN": TOKEN}
WHATSAPP = {"FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN}


@pytest.fixture(scope="module")
def bot_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture(scope="module")
def twilio_server() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def twilio(twilio_server: FakeTwilio) -> FakeTwilio:
    twilio_server.reset()
    return twilio_server


def write_config(tmp_path: Path, *, telegram_url: str, twilio_url: str, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[bot]
database = "formabot.db"

[telegram]
base_url = "{telegram_url}"
{extra}

[whatsapp]
api_base_url = "{twilio_url}"
from = "{SENDER}"
public_url = "https://bot.example.org"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def installed(tmp_path: Path, bot_api: FakeBotAPI, twilio: FakeTwilio) -> Path:
    """A config pointing at the fakes, and its database migrated."""
    path = write_config(tmp_path, telegram_url=bot_api.base_url, twilio_url=twilio.base_url)
    path.chmod(0o600)  # as installed: not readable by other users
    open_database(tmp_path / "formabot.db").close()
    return path


def doctor(config: Path, env: dict[str, str], *args: str) -> Result:
    environment: dict[str, str | None] = dict.fromkeys(SECRET_NAMES)
    environment.update(env)
    return CliRunner().invoke(
        cli, ["--config", str(config), "doctor", "--timeout", "5", *args], env=environment
    )


def line(result: Result, check: str) -> str:
    """`check`'s first verdict line ("LEVEL  check  summary"), with its fix line if any."""
    lines = result.output.splitlines()
    for index, text in enumerate(lines):
        if text[6:].split("  ", 1)[0] == check:
            fix = lines[index + 1] if index + 1 < len(lines) else ""
            return text + ("\n" + fix if fix.strip().startswith("fix:") else "")
    raise AssertionError(f"no {check!r} line in:\n{result.output}")


def test_a_healthy_installation_is_all_ok(installed: Path) -> None:
    result = doctor(installed, TELEGRAM | WHATSAPP)
    assert result.exit_code == 0, result.output
    assert line(result, "telegram").startswith("OK")
    assert "@formabot_test_bot" in line(result, "telegram")
    assert line(result, "whatsapp").startswith("OK")
    assert "'Formabot test account'" in line(result, "whatsapp")
    assert "https://bot.example.org/whatsapp/inbound" in line(result, "whatsapp url")
    assert f"{len(MIGRATIONS._migrations)} migrations applied" in line(result, "database")
    assert line(result, "tzdata").startswith("OK")
    assert line(result, "permissions").startswith("OK")
    assert result.output.splitlines()[-1] == "8 OK"
    assert "\x1b[" not in result.output  # readable without colour


def test_a_wrong_telegram_token_fails_and_is_never_printed(installed: Path) -> None:
    wrong = "999999:AAWrongTokenWrongTokenWrongToken00"
    result = doctor(installed, {"FORMABOT_TELEGRAM_TOKEN": wrong} | WHATSAPP)
    assert result.exit_code == 1
    verdict = line(result, "telegram")
    assert verdict.startswith("FAIL")
    assert "refused the token in FORMABOT_TELEGRAM_TOKEN" in verdict
    assert "@BotFather" in verdict
    assert wrong not in result.output
    assert line(result, "whatsapp").startswith("OK")


def test_a_base_url_that_is_no_bot_api_is_suspected_too(
    tmp_path: Path, bot_api: FakeBotAPI, twilio: FakeTwilio
) -> None:
    wrong = f"http://127.0.0.1:{bot_api.port}/elsewhere"
    config = write_config(tmp_path, telegram_url=wrong, twilio_url=twilio.base_url)
    result = doctor(config, TELEGRAM)
    assert result.exit_code == 1
    assert f"or correct [telegram] base_url = {wrong}" in line(result, "telegram")
    assert "Traceback" not in result.output  # PTB's own error log is held back


def test_an_unreachable_telegram_server_is_explained(tmp_path: Path, twilio: FakeTwilio) -> None:
    dead = f"http://127.0.0.1:{free_port()}/bot"
    config = write_config(tmp_path, telegram_url=dead, twilio_url=twilio.base_url)
    result = doctor(config, TELEGRAM)
    assert result.exit_code == 1
    verdict = line(result, "telegram")
    assert verdict.startswith("FAIL  telegram")
    assert "cannot reach Telegram" in verdict and dead in verdict
    assert "firewall" in verdict
    assert TOKEN not in result.output
    assert "Traceback" not in result.output


def test_wrong_twilio_credentials_fail_and_are_never_printed(
    installed: Path, twilio: FakeTwilio
) -> None:
    wrong = "0badc0ffee0badc0ffee0badc0ffee00"
    result = doctor(
        installed,
        TELEGRAM
        | {"FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "FORMABOT_TWILIO_AUTH_TOKEN": wrong},
    )
    assert result.exit_code == 1
    verdict = line(result, "whatsapp")
    assert verdict.startswith("FAIL")
    assert "Twilio refused the credentials" in verdict and "20003" in verdict
    assert "FORMABOT_TWILIO_AUTH_TOKEN again from the Twilio console" in verdict
    assert wrong not in result.output
    (request,) = twilio.requests
    assert (request.method, request.path) == ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json")


def test_an_unreachable_twilio_is_explained(tmp_path: Path, bot_api: FakeBotAPI) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = write_config(tmp_path, telegram_url=bot_api.base_url, twilio_url=dead)
    result = doctor(config, WHATSAPP)
    assert result.exit_code == 1
    verdict = line(result, "whatsapp")
    assert verdict.startswith("FAIL") and "cannot reach Twilio" in verdict and dead in verdict
    assert AUTH_TOKEN not in result.output


def test_a_twilio_that_does_not_answer_is_a_timeout(installed: Path, twilio: FakeTwilio) -> None:
    twilio.hang_next()
    try:
        result = doctor(installed, WHATSAPP, "--timeout", "0.5")
    finally:
        twilio.release()
    assert result.exit_code == 1
    assert "no answer from Twilio within 0.5 s" in line(result, "whatsapp")


@pytest.mark.parametrize(
    ("status", "kind", "level", "said"),
    [
        ("suspended", "Full", "FAIL", "is suspended"),
        ("active", "Trial", "WARN", "only to verified numbers"),
    ],
)
def test_the_account_state_is_reported(
    installed: Path, twilio: FakeTwilio, status: str, kind: str, level: str, said: str
) -> None:
    twilio.account_status, twilio.account_type = status, kind
    result = doctor(installed, WHATSAPP)
    assert line(result, "whatsapp").startswith(level)
    assert said in line(result, "whatsapp")
    assert result.exit_code == (1 if level == "FAIL" else 0)


def test_an_api_key_sid_is_not_an_account_sid(installed: Path, twilio: FakeTwilio) -> None:
    result = doctor(
        installed,
        {"FORMABOT_TWILIO_ACCOUNT_SID": "SK" + "0" * 32, "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN},
    )
    assert result.exit_code == 1
    assert "not an API key SID" in line(result, "whatsapp")
    assert twilio.requests == []


def test_half_the_twilio_credentials_is_a_failure(installed: Path) -> None:
    result = doctor(installed, {"FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    assert result.exit_code == 1
    assert "FORMABOT_TWILIO_AUTH_TOKEN is not set" in line(result, "whatsapp")


def test_a_channel_not_configured_is_not_a_failure(installed: Path) -> None:
    result = doctor(installed, TELEGRAM)
    assert result.exit_code == 0, result.output
    assert line(result, "whatsapp").startswith("SKIP  whatsapp")
    assert "not configured" in line(result, "whatsapp")


def test_no_channel_at_all_is_a_console_only_deployment_not_a_failure(
    installed: Path,
) -> None:
    result = doctor(installed, {})
    assert result.exit_code == 0, result.output
    assert line(result, "channels").startswith("WARN")
    assert "console only" in line(result, "channels")
    assert "SKIP  telegram" in result.output and "SKIP  whatsapp" in result.output


def test_an_invalid_config_is_one_failure_and_the_rest_still_runs(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[bot]\ntimezone = "Europe/Casablanca"\n', encoding="utf-8")
    result = doctor(config, TELEGRAM)
    assert result.exit_code == 1
    assert "[bot] timezone = 'Europe/Casablanca'" in line(result, "config")
    assert line(result, "tzdata").startswith("OK")
    assert "Traceback" not in result.output


def test_a_missing_config_file_is_a_failure(tmp_path: Path) -> None:
    result = doctor(tmp_path / "nowhere.toml", TELEGRAM)
    assert result.exit_code == 1
    assert "no such configuration file" in line(result, "config")


def test_webhook_mode_needs_its_secret(tmp_path: Path, bot_api: FakeBotAPI) -> None:
    config = write_config(
        tmp_path,
        telegram_url=bot_api.base_url,
        twilio_url="http://x",
        extra='mode = "webhook"\nwebhook_url = "https://bot.example.org/tg"',
    )
    result = doctor(config, TELEGRAM)
    assert result.exit_code == 1
    assert "FORMABOT_TELEGRAM_WEBHOOK_SECRET" in result.output
    assert line(result, "telegram webhook").startswith("OK")
    with_secret = doctor(config, TELEGRAM | {"FORMABOT_TELEGRAM_WEBHOOK_SECRET": "s3cret"})
    assert "WEBHOOK_SECRET" not in with_secret.output


# --- the public URLs, check by check --------------------------------------------------------

ENABLED = WhatsAppSettings(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_=SENDER)


@pytest.mark.parametrize(
    ("public_url", "level", "said"),
    [
        ("https://bot.example.org", "OK", "https://bot.example.org/whatsapp/inbound"),
        ("https://bot.example.org/", "OK", "https://bot.example.org/whatsapp/inbound"),
        ("", "FAIL", "public_url is not set"),
        ("http://bot.example.org", "FAIL", "not https"),
        ("https://bot.example.org/whatsapp/inbound", "FAIL", "names a webhook"),
        ("https://bot.example.org/whatsapp", "FAIL", "names a webhook"),
        ("https://bot.example.org/?a=1", "FAIL", "query or fragment"),
        ("https://localhost", "FAIL", "local address"),
        ("https://example.org/formabot", "WARN", "strip /formabot"),
    ],
)
def test_whatsapp_public_url(public_url: str, level: str, said: str) -> None:
    (finding,) = check_whatsapp_url(replace(ENABLED, public_url=public_url))
    assert finding.level == level
    assert said in finding.summary + finding.fix


def test_whatsapp_url_is_not_checked_without_whatsapp() -> None:
    assert check_whatsapp_url(WhatsAppSettings(public_url="http://x")) == []


WEBHOOK = TelegramSettings(token=TOKEN, mode="webhook", webhook_secret="s")


@pytest.mark.parametrize(
    ("url", "path", "level", "said"),
    [
        ("https://bot.example.org/telegram", "", "OK", "served at /telegram"),
        ("https://bot.example.org:8443/telegram", "", "OK", "served at /telegram"),
        ("https://bot.example.org:8080/telegram", "", "FAIL", "port 8080"),
        ("http://bot.example.org/telegram", "", "FAIL", "not https"),
        ("https://bot.example.org/telegram", "/hook", "WARN", "pass /telegram to"),
    ],
)
def test_telegram_webhook_url(url: str, path: str, level: str, said: str) -> None:
    (finding,) = check_telegram_webhook(replace(WEBHOOK, webhook_url=url, webhook_path=path))
    assert finding.level == level
    assert said in finding.summary + finding.fix


def test_long_polling_needs_no_public_url() -> None:
    (finding,) = check_telegram_webhook(TelegramSettings(token=TOKEN))
    assert finding.level == "OK" and "long polling" in finding.summary


# --- the database ---------------------------------------------------------------------------


def test_a_missing_database_is_a_warning_and_is_not_created(tmp_path: Path) -> None:
    (finding,) = check_database(tmp_path / "formabot.db")
    assert finding.level == "WARN" and "db migrate" in finding.fix
    assert not (tmp_path / "formabot.db").exists()


def test_a_missing_directory_is_a_failure(tmp_path: Path) -> None:
    (finding,) = check_database(tmp_path / "nowhere" / "formabot.db")
    assert finding.level == "FAIL"


def test_pending_migrations_are_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = open_database(path, migrate=False)
    last = MIGRATIONS._migrations[-1].name  # whichever step is the newest
    MIGRATIONS.apply(old, stop_before=last)
    old.close()
    (finding,) = check_database(path)
    assert finding.level == "WARN"
    assert f"1 migration(s) pending: {last}" in finding.summary
    assert "formabot db migrate" in finding.fix


def test_a_database_from_a_newer_formabot_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    newer = open_database(path)
    newer["_sqlite_migrations"].insert(
        {"migration_set": "formabot", "name": "0099_future", "applied_at": "2027-01-01"}
    )
    newer.close()
    (finding,) = check_database(path)
    assert finding.level == "FAIL" and "0099_future" in finding.summary


def _table_with_index(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    connection.executemany("INSERT INTO t (text) VALUES (?)", [("x" * 200,)] * 500)
    connection.execute("CREATE INDEX t_text ON t (text)")
    connection.commit()
    connection.close()


def test_a_row_out_of_step_with_its_index_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    _table_with_index(path)
    data = path.read_bytes()
    # The table's pages come before the index's: the first copy of the text is a row's.
    path.write_bytes(data.replace(b"x" * 200, b"y" * 200, 1))
    (finding,) = check_database(path)
    assert finding.level == "FAIL"
    assert "is damaged: " in finding.summary and "t_text" in finding.summary
    assert "restore the last backup" in finding.fix


def test_a_broken_page_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    _table_with_index(path)
    data = bytearray(path.read_bytes())
    data[4096 * 3 : 4096 * 3 + 200] = b"\xff" * 200  # a page in the middle of the table
    path.write_bytes(bytes(data))
    (finding,) = check_database(path)
    assert finding.level == "FAIL"
    assert "restore the last backup" in finding.fix


def test_a_file_that_is_not_a_database_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "formabot.db"
    path.write_text("not a database at all, " * 100, encoding="utf-8")
    (finding,) = check_database(path)
    assert finding.level == "FAIL" and "not a database" in finding.summary


# --- time zones -----------------------------------------------------------------------------


def test_the_tzdata_package_knows_moroccos_2026_rule() -> None:
    finding = check_morocco()
    assert finding.level == "OK" and "Africa/Casablanca" in finding.summary


def test_time_zone_data_without_the_rule_is_a_failure() -> None:
    finding = check_morocco(zone("Etc/GMT-1"), version="2025a")  # UTC+01 all year
    assert finding.level == "FAIL"
    assert "2026-03-01 is UTC+01, expected UTC+00" in finding.summary
    assert "2027-07-01 is UTC+01, expected UTC+00" in finding.summary
    assert "pip install -U tzdata" in finding.fix


def test_render_puts_fixes_under_problems_only() -> None:
    lines = render(
        [Finding("OK", "a", "fine", "never shown"), Finding("FAIL", "longer", "broken", "mend it")]
    )
    assert lines == [
        "OK    a       fine",
        "FAIL  longer  broken",
        "              fix: mend it",
        "1 OK, 1 FAIL",
    ]


def all_migrations() -> list[str]:
    """Every migration's name, in order (other work adds its own)."""
    empty = open_database(":memory:", migrate=False)
    try:
        return [migration.name for migration in MIGRATIONS.pending(empty)]
    finally:
        empty.close()
