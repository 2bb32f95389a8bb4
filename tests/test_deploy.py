"""deploy/: the systemd units and the nginx site. Their essentials are always checked by
reading them; systemd-analyze and nginx check them too where installed, and nginx then
really proxies to formabot's web app over TLS."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from sqlite_utils import Database
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.cli.main import cli
from bot.config import WebSettings
from bot.web import app as web
from tests.telegram.support import free_port

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = ("formabot.service", "formabot-backup.service", "formabot-backup.timer")
INSTALLED = "/opt/formabot/venv/bin/formabot"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it: sections of keys, each with all its values (a key
    may repeat), backslash-continued lines joined, comments dropped."""
    sections: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    text = (DEPLOY / name).read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(" ".join(value.split()))
    return sections


def one(values: dict[str, list[str]], key: str) -> str:
    (value,) = values[key]
    return value


def test_the_service_runs_formabot_with_its_secrets_and_restarts() -> None:
    service = unit("formabot.service")["Service"]
    argv = shlex.split(one(service, "ExecStart"))
    assert argv == [INSTALLED, "--config", "/etc/formabot/config.toml", "run"]
    assert one(service, "EnvironmentFile") == "/etc/formabot/env"
    assert one(service, "Restart") == "on-failure"
    assert one(service, "User") == "formabot"
    assert one(service, "WorkingDirectory") == "/var/lib/formabot"
    assert "/var/lib/formabot" in one(service, "ReadWritePaths").split()
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
    }.items():
        assert one(service, key) == value, key
    assert "multi-user.target" in one(unit("formabot.service")["Install"], "WantedBy")


def test_the_nightly_timer_starts_a_backup_without_secrets() -> None:
    timer = unit("formabot-backup.timer")
    assert "Unit" not in timer["Timer"]  # it starts formabot-backup.service, by its name
    assert one(timer["Timer"], "OnCalendar").endswith("02:30:00")
    assert one(timer["Timer"], "Persistent") == "true"
    assert one(timer["Install"], "WantedBy") == "timers.target"
    service = unit("formabot-backup.service")["Service"]
    argv = shlex.split(one(service, "ExecStart"))
    assert argv[:5] == [INSTALLED, "--config", "/etc/formabot/config.toml", "db", "backup"]
    assert one(service, "Type") == "oneshot"
    assert "EnvironmentFile" not in service
    target = argv[5]
    assert target in one(service, "ReadWritePaths").split()


def test_the_backup_command_line_works(tmp_path: Path, config_file: Path, db: Database) -> None:
    """The unit's own arguments, with the paths of this test: a dated copy appears."""
    argv = shlex.split(one(unit("formabot-backup.service")["Service"], "ExecStart"))
    backups = tmp_path / "backups"
    backups.mkdir()
    arguments = [
        str(config_file)
        if arg == "/etc/formabot/config.toml"
        else str(backups)
        if arg == "/var/backups/formabot"
        else arg
        for arg in argv[1:]
    ]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    (made,) = backups.glob("formabot-*.db")
    copy = Database(made)
    assert "deliveries" in copy.table_names()
    copy.close()


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (systemd's own unit check)",
)
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: the installed path becomes this venv's formabot.
    here = str(Path(sys.executable).parent / "formabot")
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace(INSTALLED, here), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on unknown keys or bad values, which it only prints: none may name ours.
    said = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if any(name in line for name in UNITS)
    ]
    assert (result.returncode, said) == (0, [])


# --- nginx --------------------------------------------------------------------------------

NGINX = (DEPLOY / "nginx-formabot.conf").read_text(encoding="utf-8")


def test_nginx_passes_only_formabots_paths_to_its_port() -> None:
    assert f"server 127.0.0.1:{WebSettings().port};" in NGINX
    for location in (
        "location = /telegram {",
        "location /whatsapp/ {",
        "location = /healthz {",
        "location / {",
    ):
        assert location in NGINX
    for header in (
        "Host $host",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto $scheme",
        "X-Forwarded-Host $host",
    ):
        assert f"proxy_set_header {header};" in NGINX
    assert "listen 443 ssl;" in NGINX and "ssl_certificate_key" in NGINX


def test_nginx_serves_health_and_metrics_to_this_machine_only() -> None:
    """Both show the outbox's state and cost database work: not for the internet."""
    for path in ("/healthz", "/metrics"):
        block = NGINX.split(f"location = {path} {{", 1)[1].split("}", 1)[0]
        rules = [
            line.strip()
            for line in block.splitlines()
            if line.strip().startswith(("allow", "deny"))
        ]
        assert rules == ["allow 127.0.0.1;", "allow ::1;", "deny all;"], path


class Nginx:
    """nginx in the foreground on two free loopback ports, with a throwaway certificate,
    proxying to `app_port`."""

    def __init__(self, directory: Path, app_port: int) -> None:
        self.tls, self.plain = free_port(), free_port()
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=bot.example.org",
                "-keyout",
                str(directory / "key.pem"),
                "-out",
                str(directory / "cert.pem"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        site = (
            NGINX.replace("listen [::]:443 ssl;", "")
            .replace("listen [::]:80;", "")
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{self.tls} ssl;")
            .replace("listen 80;", f"listen 127.0.0.1:{self.plain};")
            .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{app_port};")
            .replace(
                "/etc/letsencrypt/live/bot.example.org/fullchain.pem", str(directory / "cert.pem")
            )
            .replace(
                "/etc/letsencrypt/live/bot.example.org/privkey.pem", str(directory / "key.pem")
            )
        )
        (directory / "site.conf").write_text(site, encoding="utf-8")
        self.conf = directory / "nginx.conf"
        self.conf.write_text(
            f"pid {directory}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
            f"http {{\n access_log off;\n client_body_temp_path {directory}/body;\n"
            f" proxy_temp_path {directory}/proxy;\n include {directory}/site.conf;\n}}\n",
            encoding="utf-8",
        )
        self.directory = directory

    def command(self, *args: str) -> list[str]:
        return ["nginx", "-c", str(self.conf), "-p", str(self.directory), "-e", "stderr", *args]


needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None or shutil.which("openssl") is None,
    reason="nginx or openssl is not installed (apt-get install nginx-light openssl)",
)


@pytest.fixture
def app_port() -> Iterator[int]:
    """formabot's web app (/healthz, plus a route that shows what reached it), on uvicorn."""

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.url.path, "headers": dict(request.headers)})

    app = web.create_app(routes=[Route("/whatsapp/inbound", echo, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@needs_nginx
def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = Nginx(tmp_path, 8080)
    result = subprocess.run(nginx.command("-t"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@needs_nginx
def test_nginx_proxies_formabots_paths_over_tls(tmp_path: Path, app_port: int) -> None:
    nginx = Nginx(tmp_path, app_port)
    process = subprocess.Popen(nginx.command("-g", "daemon off;"), stderr=subprocess.PIPE)
    try:
        base = f"https://127.0.0.1:{nginx.tls}"
        with httpx.Client(verify=False, headers={"Host": "bot.example.org"}, timeout=5) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    health = client.get(f"{base}/healthz")
                    break
                except httpx.ConnectError:
                    assert process.poll() is None, process.stderr.read().decode()
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            assert (health.status_code, health.text) == (200, "ok")
            echoed = client.post(f"{base}/whatsapp/inbound", data={"Body": "MENU"}).json()
            assert echoed["path"] == "/whatsapp/inbound"
            assert echoed["headers"]["host"] == "bot.example.org"
            assert echoed["headers"]["x-forwarded-proto"] == "https"
            assert echoed["headers"]["x-forwarded-for"] == "127.0.0.1"
            assert client.get(f"{base}/formabot.db").status_code == 404
            assert client.get(f"{base}/telegram").status_code == 403  # POST only
            plain = client.get(f"http://127.0.0.1:{nginx.plain}/healthz")
            assert plain.status_code == 301
            assert plain.headers["location"] == "https://bot.example.org/healthz"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
