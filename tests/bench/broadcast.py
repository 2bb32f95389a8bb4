"""The broadcast benchmark: a real `formabot run` sends one announcement through its outbox
to N recipients on a fake platform that enforces a rate and adds latency, while one person
chats with the bot; prints one JSON line.

    .venv/bin/python tests/bench/broadcast.py --recipients 10000 --rate 1000 --latency-ms 50
    .venv/bin/python tests/bench/broadcast.py --channel whatsapp --recipients 4800 --rate 80

What it does, in order (progress on standard error, the JSON line alone on standard output):
1. a temporary database with N consenting recipients (role trainee, one identity each on the
   channel, their last message to us just now: inside WhatsApp's 24-hour window) and the
   person who chats (a manager, so not in the audience, and a coordinator: staff, whom the
   inbound flood control lets write ten messages a second);
2. the fake platform in a process of its own (its CPU is not the bot's), enforcing `--rate`
   over the announcement's messages with 429s (GCRA with `--tolerance-ms` of jitter allowed;
   Telegram: retry_after 1 s, and refused until then; Twilio: error 20429) and answering
   every message sent `--latency-ms` late;
3. `formabot run` as an operator starts it (a subprocess, config file, credentials in the
   environment, that channel only), `rate_limit_per_second` = the rate asked;
4. the announcement published as a coordinator would: `formabot announce --role trainee
   --text … --yes` (the CLI writes the delivery rows; the running bot sends them);
5. meanwhile the person writes to the bot every `--chat-interval-ms` (default: every 100 ms,
   or slower so that their replies take at most 2% of the rate: formabot counts replies
   against the same overall rate as the broadcast, as the platform does) (Telegram: an update
   queued for getUpdates; WhatsApp: a signed POST to the bot's /whatsapp/inbound); each
   reply's latency is from that to the reply's request (sendMessage, Messages.json) being
   read by the fake;
6. when every row is done: the figures, then the bot is stopped (SIGTERM) and everything
   started is cleaned up, within a time bound derived from N and the rate.

The JSON line: `recipients`, `rate_asked`, `rate_achieved` (announcement messages read by
the fake, (count - 1) / (last - first), i.e. sustained), `provoked_429`, `delivered_once`
(every recipient's chat got exactly one message), `cpu_s` (the bot process's user + system
CPU from publishing to the last delivery), `peak_rss_mb` (the bot's VmHWM), `reply_p50_ms`,
`reply_p99_ms` (the person's messages from the publication to the last delivery; one never
answered counts as infinitely late); then details: `channel`, `latency_ms`, `concurrency`,
`duration_s`, `rate_min_10s` (the slowest 10-second window, stepped by 1 s), `rate_10s` (the
rate in each consecutive 10-second window), `cpu_ms_per_msg`,
`not_delivered`, `delivered_twice`, `replies`, `replies_missing` (messages of that span never
answered), `pauses_asked` (429s that started a pause; `provoked_429` also counts the requests
refused during one), `statuses` (the rows' final statuses in the database), `bot_errors`
(tracebacks in the bot's log), `fake_cpu_s`, `timed_out`.

Only the announcement's messages are policed by default: the person's replies do not go
through the outbox and its limiter (`--police-replies` polices them too). The channel's
specifics live in `channel_<name>.py`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable
from contextlib import ExitStack, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Run as a script, this directory comes first on sys.path; the project's root must instead
# (`tests.fakes`, `storage`), and nothing here may shadow a package.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage import deliveries, open_database  # noqa: E402
from storage.zones import now_utc, to_utc_text  # noqa: E402

FORMABOT = Path(sys.executable).with_name("formabot")
CHANNELS = {"telegram": "tests.bench.channel_telegram", "whatsapp": "tests.bench.channel_whatsapp"}
TEXT = (
    "Nouvelle session : soudage TIG <niveau 1> & 2, du 9 au 11 décembre à Casablanca."
    " Inscriptions ouvertes dans le menu « Sessions »."
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPLY_SHARE = 0.02  # of the rate, at most, for the chatting person's replies (by default)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tests/bench/broadcast.py",
        description="Broadcast one announcement through a real `formabot run` to N recipients"
        " on a fake platform enforcing a rate and adding latency, while a person"
        " chats with the bot; print one JSON line of figures.",
        epilog="Stops by itself: after the broadcast, or after 120 s + 3 x N / rate at most."
        " Progress goes to standard error, the JSON line alone to standard output.",
    )
    parser.add_argument(
        "--recipients",
        type=int,
        default=1000,
        metavar="N",
        help="recipients of the announcement (default 1000)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=30.0,
        metavar="R",
        help="messages a second: the fake's limit (429 above it) and the"
        " bot's rate_limit_per_second (default 30)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=50.0,
        metavar="L",
        help="added by the fake to each answer to a message sent (default 50)",
    )
    parser.add_argument(
        "--channel",
        choices=sorted(CHANNELS),
        default="telegram",
        help="the platform faked (default telegram)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        metavar="C",
        help="[dispatcher] concurrency; default max(16, 2 x R x L): twice the"
        " requests in flight that the latency needs",
    )
    parser.add_argument(
        "--chat-interval-ms",
        type=float,
        default=None,
        metavar="MS",
        help="the person writes to the bot this often during the broadcast"
        " (default: every 100 ms, or slower so that the replies take"
        " at most 2%% of the rate, e.g. every 1.7 s at 30/s; 0: nobody"
        " chats)",
    )
    parser.add_argument(
        "--tolerance-ms",
        type=float,
        default=20.0,
        metavar="MS",
        help="jitter the fake's rate policing tolerates (default 20, as in the tests' fake)",
    )
    parser.add_argument(
        "--police-replies",
        action="store_true",
        help="count the bot's replies to the person against the rate too"
        " (default: only the announcement's messages are policed)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (database, config, bot log)",
    )
    args = parser.parse_args(argv)
    if args.recipients < 1 or args.rate <= 0 or args.latency_ms < 0:
        parser.error("--recipients must be at least 1, --rate positive, --latency-ms >= 0")
    if not args.concurrency:
        args.concurrency = max(16, math.ceil(2 * args.rate * args.latency_ms / 1000))
    if args.chat_interval_ms is None:  # replies share the platform's rate with the broadcast
        args.chat_interval_ms = max(100.0, 1000 / (args.rate * REPLY_SHARE))
    return args


# --- the database -------------------------------------------------------------------------


def seed(path: Path, channel: ModuleType, recipients: int) -> None:
    """N consenting trainees with one identity each, and the person who chats (a manager:
    outside the audience; a coordinator: exempt from the flood control, which would drop
    most of their pings), in one transaction of bulk inserts. Everyone wrote to us just
    now: WhatsApp's 24-hour window is open, so announcements go as free text."""
    stamp = to_utc_text(now_utc())
    state = json.dumps({"welcomed": True, "topics_chosen": True})
    db = open_database(path)
    try:
        with db.atomic():
            db.execute(
                "INSERT INTO contacts (id, name, role, company_other, language, consent_at,"
                " state, created_at, updated_at)"
                " VALUES (1, 'Chatty', 'manager', 'ACME', 'fr', ?, ?, ?, ?)",
                [stamp, state, stamp, stamp],
            )
            db.execute(
                "INSERT INTO identities (contact_id, channel, address, last_inbound_at,"
                " created_at) VALUES (1, ?, ?, ?, ?)",
                [channel.NAME, channel.PERSON_ADDRESS, stamp, stamp],
            )
            db.execute(
                "INSERT INTO coordinators (channel, address, name, added_at)"
                " VALUES (?, ?, 'Chatty', ?)",
                [channel.NAME, channel.PERSON_ADDRESS, stamp],
            )
            db.conn.executemany(
                "INSERT INTO contacts (id, name, role, language, consent_at, state, created_at,"
                " updated_at) VALUES (?, ?, 'trainee', 'fr', ?, ?, ?, ?)",
                ((n + 2, f"R{n}", stamp, state, stamp, stamp) for n in range(recipients)),
            )
            db.conn.executemany(
                "INSERT INTO identities (contact_id, channel, address, last_inbound_at,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (
                    (n + 2, channel.NAME, channel.address(n), stamp, stamp)
                    for n in range(recipients)
                ),
            )
    finally:
        db.close()


def write_config(
    directory: Path, channel: ModuleType, urls: dict[str, str], args: argparse.Namespace
) -> Path:
    path = directory / "config.toml"
    path.write_text(
        '[bot]\ndatabase = "formabot.db"\nquiet_hours = ""\n\n'
        + channel.config_section(urls, args.rate)
        + f"\n[dispatcher]\nconcurrency = {args.concurrency}\n",
        encoding="utf-8",
    )
    return path


# --- the processes ------------------------------------------------------------------------


class FakePlatform:
    """The channel's fake in a process of its own, driven through a pipe."""

    def __init__(self, channel: ModuleType, args: argparse.Namespace) -> None:
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        self.process = context.Process(
            target=channel.serve,
            name=f"fake-{channel.NAME}",
            daemon=True,
            args=(child,),
            kwargs={
                "recipients": args.recipients,
                "rate": args.rate,
                "latency": args.latency_ms / 1000,
                "tolerance": args.tolerance_ms / 1000,
                "police_replies": args.police_replies,
            },
        )
        self.process.start()
        child.close()
        if not self._connection.poll(30):
            raise RuntimeError("the fake platform did not start within 30 s")
        self.urls: dict[str, str] = self._connection.recv()

    def ask(self, command: str, argument: Any = None, *, answer: bool = True) -> Any:
        self._connection.send((command, argument))
        if not answer:
            return None
        if not self._connection.poll(60):
            raise RuntimeError(f"the fake platform did not answer {command!r}")
        return self._connection.recv()

    def close(self) -> None:
        if self.process.is_alive():
            with suppress(OSError):
                self.ask("stop", answer=False)
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._connection.close()


def answer(
    connection: Connection,
    api: Any,
    urls: dict[str, str],
    queries: tuple[str, ...] = ("progress", "summary"),
) -> None:
    """The fake's side of `FakePlatform`, in the fake's process: `urls` first, then the
    commands on `connection` until "stop" (or until the benchmark goes away): "chat" with
    `api.chat`, `queries` answered with the method of that name; `api` closed after."""
    # The recipients' chats live as long as the fake: keep full collections from walking
    # them, lest the fake stall, then read a burst of requests and blame the bot with a 429.
    gc.collect()
    gc.freeze()
    try:
        connection.send(urls)
        while True:
            try:
                command, argument = connection.recv()
            except (EOFError, OSError):
                return
            if command == "chat":
                api.chat(argument)
            elif command in queries:
                connection.send(getattr(api, command)())
            elif command == "stop":
                return
    finally:
        api.chat(0)
        api.close()


class Measured:
    """What both channels' benchmark fakes count, and how their person chats: a fake sets
    the counters (`received`, `delivered_at`, `pings`, `replies`, `_chatting`) and has a
    `_lock`; it writes as the person in `_write` and counts the 429s its own way."""

    _lock: threading.Lock
    received: array[int]  # messages per recipient
    delivered_at: array[float]  # when each announcement message was read
    pings: dict[int, float]  # ping number → when it was sent
    replies: dict[int, float]  # ping number → when its reply was read
    _chatting: threading.Event | None

    def chat(self, interval: float) -> None:
        """Start writing to the bot every `interval` seconds (0: stop)."""
        if self._chatting is not None:
            self._chatting.set()
            self._chatting = None
        if interval > 0:
            self._chatting = threading.Event()
            threading.Thread(
                target=self._write, args=(interval, self._chatting), daemon=True
            ).start()

    def _write(self, interval: float, stop: threading.Event) -> None:
        raise NotImplementedError

    def provoked_429(self) -> int:
        """429s answered, bursts and pauses included."""
        raise NotImplementedError

    def pauses_asked(self) -> int:
        """429s that started a pause."""
        raise NotImplementedError

    def progress(self) -> dict[str, Any]:
        with self._lock:
            return {
                "delivered": len(self.delivered_at),
                "provoked_429": self.provoked_429(),
                "pings": len(self.pings),
                "replies": len(self.replies),
            }

    def summary(self) -> dict[str, Any]:
        """Everything measured, in the fake's clock (time.monotonic of this process)."""
        with self._lock:
            counts = array("I", self.received)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return {
                "delivered_at": self.delivered_at.tobytes(),
                "once": sum(1 for value in counts if value == 1),
                "never": sum(1 for value in counts if value == 0),
                "twice_or_more": sum(1 for value in counts if value > 1),
                "provoked_429": self.provoked_429(),
                "pings": dict(self.pings),
                "replies": dict(self.replies),
                "fake_cpu_s": usage.ru_utime + usage.ru_stime,
                "pauses_asked": self.pauses_asked(),
            }


class Bot:
    """`formabot --config … run`, its standard streams to a log file."""

    def __init__(self, config: Path, env: dict[str, str], log_path: Path) -> None:
        environ = {
            key: value for key, value in os.environ.items() if not key.startswith("FORMABOT_")
        }
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(FORMABOT), "--config", str(config), "run"],
            env={**environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_started(self, ready: str, seconds: float = 60) -> None:
        """Until `ready` is in the log (the channel's sign that the person may write)."""
        deadline = time.monotonic() + seconds
        while ready not in self.text():
            if self.process.poll() is not None:
                raise RuntimeError(f"formabot run exited:\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"formabot run did not start:\n{self.text()[-3000:]}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User + system CPU of the bot's process so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                log("formabot run did not stop within 30 s of SIGTERM: killed")
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def publish(config: Path, env: dict[str, str]) -> int:
    """`formabot announce` as a coordinator types it; the announcement's id."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("FORMABOT_")}
    result = subprocess.run(
        [
            str(FORMABOT),
            "--config",
            str(config),
            "announce",
            "--role",
            "trainee",
            "--text",
            TEXT,
            "--yes",
        ],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"formabot announce failed:\n{result.stdout}{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


# --- the figures --------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank; None when there is nothing, or when the rank falls on a reply that
    never came (`math.inf`)."""
    if not values:
        return None
    ordered = sorted(values)
    value = ordered[max(math.ceil(share * len(ordered)) - 1, 0)]
    return None if math.isinf(value) else value


def slowest_window(times: list[float], seconds: float = 10.0) -> float | None:
    """The lowest rate over any `seconds`-long window between the first and last delivery
    (windows stepped by 1 s); None when the broadcast was shorter than one window."""
    if not times or times[-1] - times[0] < seconds:
        return None
    first, worst = times[0], math.inf
    start, low, high = first, 0, 0
    while start + seconds <= times[-1]:
        while low < len(times) and times[low] < start:
            low += 1
        while high < len(times) and times[high] < start + seconds:
            high += 1
        worst = min(worst, (high - low) / seconds)
        start += 1.0
    return worst


def windows(times: list[float], seconds: float = 10.0) -> list[float]:
    """The rate in each whole `seconds`-long window from the first delivery on, in order: a
    stall shows as a dip, a catch-up burst as a bump."""
    if not times:
        return []
    counts = [0] * int((times[-1] - times[0]) // seconds)
    for at in times:
        index = int((at - times[0]) // seconds)
        if index < len(counts):
            counts[index] += 1
    return [round(count / seconds, 1) for count in counts]


def figures(
    args: argparse.Namespace,
    summary: dict[str, Any],
    *,
    cpu_s: float,
    rss_mb: float,
    statuses: dict[str, int],
    bot_errors: int,
    timed_out: bool,
) -> dict[str, Any]:
    times = sorted(array("d", summary["delivered_at"]))
    delivered = len(times)
    span = times[-1] - times[0] if delivered > 1 else 0.0
    rate = (delivered - 1) / span if span > 0 else 0.0
    # The person starts writing as the announcement is published: the pings up to the last
    # delivery count, the rows being written included; one never answered is infinitely late.
    during = [number for number, at in summary["pings"].items() if times and at <= times[-1]]
    replies = summary["replies"]
    latencies = [
        (replies[number] - summary["pings"][number]) * 1000 if number in replies else math.inf
        for number in during
    ]
    answered = [value for value in latencies if not math.isinf(value)]
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    return {
        "recipients": args.recipients,
        "rate_asked": args.rate,
        "rate_achieved": round(rate, 1),
        "provoked_429": summary["provoked_429"],
        "delivered_once": summary["once"] == args.recipients,
        "cpu_s": round(cpu_s, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "reply_p50_ms": None if p50 is None else round(p50, 1),
        "reply_p99_ms": None if p99 is None else round(p99, 1),
        "channel": args.channel,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "duration_s": round(span, 2),
        "rate_min_10s": None if (low := slowest_window(times)) is None else round(low, 1),
        "rate_10s": windows(times),
        "cpu_ms_per_msg": round(cpu_s / delivered * 1000, 3) if delivered else None,
        "not_delivered": summary["never"],
        "delivered_twice": summary["twice_or_more"],
        "replies": len(answered),
        "replies_missing": len(latencies) - len(answered),
        "pauses_asked": summary["pauses_asked"],
        "statuses": statuses,
        "bot_errors": bot_errors,
        "fake_cpu_s": round(summary["fake_cpu_s"], 2),
        "timed_out": timed_out,
    }


# --- the run ------------------------------------------------------------------------------


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    channel = importlib.import_module(CHANNELS[args.channel])
    budget = 120 + 3 * args.recipients / args.rate
    with ExitStack() as stack:
        started = time.monotonic()
        seed(directory / "formabot.db", channel, args.recipients)
        log(f"database: {args.recipients} recipients in {time.monotonic() - started:.1f} s")
        fake = FakePlatform(channel, args)
        stack.callback(fake.close)
        config = write_config(directory, channel, fake.urls, args)
        bot = Bot(config, channel.environment(), directory / "bot.log")
        stack.callback(bot.stop)
        bot.wait_started(channel.READY)
        log(
            f"{args.channel}: rate {args.rate:g}/s, latency {args.latency_ms:g} ms,"
            f" concurrency {args.concurrency}; bot pid {bot.process.pid}"
        )

        fake.ask("chat", args.chat_interval_ms / 1000, answer=False)
        cpu_before = bot.cpu_seconds()
        publishing = time.monotonic()
        announcement_id = publish(config, channel.environment())
        log(f"announcement {announcement_id} published in {time.monotonic() - publishing:.1f} s")

        db = open_database(directory / "formabot.db", migrate=False)
        stack.callback(db.close)
        deadline = publishing + budget
        timed_out, shown = False, 0.0
        while True:
            progress = fake.ask("progress")
            # Not `report`: counting 100,000 rows ten times a second takes CPU from the bot.
            if deliveries.in_progress(db, announcement_id) is False:
                break
            if bot.process.poll() is not None:
                raise RuntimeError(f"formabot run exited mid-broadcast:\n{bot.text()[-3000:]}")
            if time.monotonic() > deadline:
                timed_out = True
                log(f"timed out after {budget:.0f} s")
                break
            if time.monotonic() - shown >= 2:
                shown = time.monotonic()
                log(
                    f"{progress['delivered']}/{args.recipients} delivered,"
                    f" {progress['provoked_429']} x 429, {progress['replies']} replies"
                )
            time.sleep(0.1)
        cpu_s = bot.cpu_seconds() - cpu_before
        rss_mb = bot.peak_rss_mb()
        # The replies still on their way, then nobody chats any more.
        settle = time.monotonic() + 3
        while time.monotonic() < settle:
            progress = fake.ask("progress")
            if progress["replies"] >= progress["pings"]:
                break
            time.sleep(0.05)
        fake.ask("chat", 0, answer=False)
        summary = fake.ask("summary")
        statuses = deliveries.report(db, announcement_id).counts
        code = bot.stop()
        text = bot.text()
        bot_errors = text.count("Traceback")
        if code != 0 or bot_errors:
            log(
                f"formabot run ended with {code}, {bot_errors} tracebacks; the last lines of"
                f" its log:\n{text[-3000:]}"
            )
    return figures(
        args,
        summary,
        cpu_s=cpu_s,
        rss_mb=rss_mb,
        statuses=statuses,
        bot_errors=bot_errors,
        timed_out=timed_out,
    )


def run_printed(
    run: Callable[[argparse.Namespace, Path], dict[str, Any]],
    args: argparse.Namespace,
    *,
    prefix: str,
    failed: str = "failed",
) -> dict[str, Any] | None:
    """`run` in a temporary directory (removed after unless `--keep`), its figures printed
    as the JSON line; None, logged as `failed`, when it could not run."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        result = run(args, directory)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        log(f"{failed}: {error}")
        return None
    finally:
        if args.keep:
            log(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    result = run_printed(run, options(argv), prefix="formabot-bench-")
    if result is None:
        return 2
    return 1 if result["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
