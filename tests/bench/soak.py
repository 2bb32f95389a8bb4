"""The soak: one broadcast through a real `formabot run` on a faulty fake platform, the bot
killed with SIGKILL and started again at random moments, people chatting all along; then
every recipient is checked against what the fake received. Prints one JSON line.

    .venv/bin/python tests/bench/soak.py                      # 10,000 recipients, 3 kills
    .venv/bin/python tests/bench/soak.py --seed 7 --recipients 300 --chatters 3 --kills 1
    .venv/bin/python tests/bench/soak.py --channel whatsapp --rate 80

What it does (progress on standard error, the JSON line alone on standard output):
1. a temporary database: N consenting trainees (one identity each on the channel) and
   `--chatters` managers who chat (outside the audience);
2. the fake platform in a process of its own (`soak_telegram.py`, `soak_whatsapp.py`):
   `--rate` policed with 429s, `--latency-ms` on each answer, and on the announcement's
   messages `--errors-5xx` 5xx, `--timeouts` requests held past the bot's request timeout,
   and 429 bursts (a 429 out of the blue about `--burst-every` seconds after the last
   pause, whose pause of `--retry-after` s refuses every request that comes during it);
   none of them records the message;
3. `formabot run` as an operator starts it (subprocess, config file, credentials in the
   environment; the channel's `rate_limit_per_second` = `--rate`), the chatters writing to
   it (Telegram: updates for getUpdates; WhatsApp: signed webhooks);
4. `formabot announce --role trainee --text … --yes`;
5. `--kills` times, when a random share (5-90 %) of the recipients has the message, plus a
   random 0-0.5 s: SIGKILL, a random 0-1 s, then `formabot run` again (all drawn from
   `--seed`, printed; the fake's faults use it too);
6. when every row is final: SIGTERM, then the figures.

Per recipient, from its delivery row and the fake's count of messages to it:
- `delivered_once`: exactly one message arrived;
- `duplicated`: more than one arrived;
- `lost`: none arrived, and the row does not say so: it is not `failed` or `skipped` with a
  reason, nor `unknown` (a `sent` row whose message never arrived is lost, so is a row left
  pending or sending, or no row at all);
- `unknown`: rows a kill left `sending` (reported, never resent), split into
  `unknown_delivered` / `unknown_not_delivered` by what the fake received;
- `failed` (all with a reason) and `failed_reasons`, `skipped` and `skipped_reasons`.
Then: `retries` (requests beyond the first to a recipient), `http_429` (all 429s: bursts,
their pauses, the rate's policing), `pauses_429` (429s that started a pause), `bursts_429`
(those of them out of the blue; the others: the bot above the rate policed), `http_5xx`,
`timeouts`, `answers_lost` (`--lost-answers`), `statuses`, `kill_log` (per kill: seconds
after publishing, messages received by then, the chatters' messages it took away unanswered,
rows it left unknown); the chatters' `pings`, `replies`, `replies_missing`,
`replies_dropped_by_kills` (of those missing: taken by a bot then killed, i.e. confirmed by
getUpdates or acknowledged to Twilio, and never answered), `replies_bot_down` (WhatsApp:
webhooks posted while the bot was down, refused), `replies_twice`, `reply_p50_ms`,
`reply_p99_ms` (answered ones; a ping sent while the bot was down waits for the restart);
`bot_errors` (tracebacks in the bot's logs), `bot_exit`, `duration_s`, `load_avg` (the
machine's, 1 min, at the end: a busy machine's figures differ), `timed_out` (no progress
for 120 s).

Exit status: 0; 1 when a recipient is lost or duplicated, or the broadcast did not finish
in time; 2 when the soak itself could not run.

`--lost-answers S` makes the fake record the message and then answer too late, a share S of
the time: a timeout after delivery, which the outbox retries (neither Telegram nor Twilio
takes an idempotency key), hence duplicates; off by default, for measuring that risk
rather than the outbox.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sys
import time
from array import array
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# Run as a script, this directory comes first on sys.path; the project's root must instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage import deliveries, open_database  # noqa: E402
from storage.zones import now_utc, to_utc_text  # noqa: E402
from tests.bench import broadcast, soak_telegram, soak_whatsapp  # noqa: E402
from tests.bench.broadcast import (  # noqa: E402
    Bot,
    FakePlatform,
    log,
    percentile,
    publish,
    run_printed,
)
from tests.telegram.support import free_port  # noqa: E402

CHANNELS = {"telegram": soak_telegram, "whatsapp": soak_whatsapp}
STALL = 120.0  # seconds without a message received nor a row done: the soak gives up


# The latency, the faults and the dispatcher's timings (floats): flag, default, metavar, help.
TIMINGS = (
    ("--latency-ms", 50.0, "L", "added to each answer (default 50)"),
    ("--errors-5xx", 0.10, "S", "share of the announcement's requests answered 502 (default 0.10)"),
    (
        "--timeouts",
        0.05,
        "S",
        "share held past the bot's request timeout, then dropped (default 0.05)",
    ),
    ("--burst-every", 10.0, "SEC", "a 429 burst about this often (default 10; 0: none)"),
    ("--retry-after", 1.0, "SEC", "the pause a 429 asks for (default 1)"),
    (
        "--lost-answers",
        0.0,
        "S",
        "share of messages recorded, then answered too late (default 0; see above)",
    ),
    ("--request-timeout", 2.0, "SEC", "[dispatcher] request_timeout (default 2)"),
    ("--backoff", 0.5, "SEC", "[dispatcher] backoff_seconds (default 0.5)"),
)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tests/bench/soak.py",
        description="Broadcast through a real `formabot run` on a faulty fake platform,"
        " killing the bot (SIGKILL) and starting it again at random moments while"
        " people chat; check every recipient; print one JSON line.",
        epilog="Exit status: 0; 1 when a recipient is lost or duplicated or the broadcast did"
        " not finish in time; 2 when the soak could not run.",
    )
    add = parser.add_argument
    add("--recipients", type=int, default=10_000, metavar="N", help="default 10000")
    add(
        "--chatters",
        type=int,
        default=50,
        metavar="P",
        help="people chatting with the bot meanwhile (default 50; 0: nobody)",
    )
    add(
        "--rate",
        type=float,
        default=1000.0,
        metavar="R",
        help="messages a second: the fake's limit and the bot's rate_limit_per_second"
        " (default 1000)",
    )
    add("--kills", type=int, default=3, metavar="K", help="SIGKILLs and restarts (default 3)")
    add(
        "--seed",
        type=int,
        default=None,
        help="draws the kills' moments and the fake's faults (default: a random one, printed)",
    )
    add("--channel", choices=sorted(CHANNELS), default="telegram", help="default telegram")
    for flag, default, metavar, text in TIMINGS:
        add(flag, type=float, default=default, metavar=metavar, help=text)
    add(
        "--max-attempts",
        type=int,
        default=5,
        metavar="A",
        help="[dispatcher] max_attempts (default 5)",
    )
    add(
        "--concurrency",
        type=int,
        default=0,
        metavar="C",
        help="[dispatcher] concurrency; default: twice what the latency needs, plus the"
        " requests held by timeouts",
    )
    add(
        "--chat-interval",
        type=float,
        default=5.0,
        metavar="SEC",
        help="each chatter writes this often (default 5: 10 messages a second from 50)",
    )
    add(
        "--tolerance-ms",
        type=float,
        default=20.0,
        metavar="MS",
        help="jitter the fake's rate policing tolerates (default 20)",
    )
    add("--keep", action="store_true", help="keep the temporary directory (database, logs)")
    args = parser.parse_args(argv)
    if args.recipients < 1 or args.rate <= 0 or args.kills < 0 or args.chatters < 0:
        parser.error("--recipients and --rate must be positive, --kills and --chatters >= 0")
    if not 0 <= args.errors_5xx + args.timeouts + args.lost_answers < 1:
        parser.error("--errors-5xx, --timeouts and --lost-answers must add up to less than 1")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    if not args.concurrency:
        held = args.rate * (args.timeouts + args.lost_answers) * args.request_timeout
        args.concurrency = max(16, math.ceil(2 * args.rate * args.latency_ms / 1000 + held))
    args.police_replies = False  # the chatters are exempt (FakePlatform's interface)
    return args


# --- setting up ---------------------------------------------------------------------------


def seed_database(path: Path, args: argparse.Namespace) -> None:
    """The benchmark's recipients and first chatter, then the other chatters (managers,
    outside the audience, who wrote to us just now)."""
    bench = CHANNELS[args.channel].BENCH
    broadcast.seed(path, bench, args.recipients)
    extra = CHANNELS[args.channel].chatter_addresses(args.chatters)[1:]
    if not extra:
        return
    stamp = to_utc_text(now_utc())
    state = json.dumps({"welcomed": True, "topics_chosen": True})
    first = args.recipients + 2
    db = open_database(path)
    try:
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO contacts (id, name, role, company_other, language, consent_at,"
                " state, created_at, updated_at) VALUES (?, ?, 'manager', 'ACME', 'fr', ?, ?,"
                " ?, ?)",
                (
                    (first + n, f"Chatty{n + 1}", stamp, state, stamp, stamp)
                    for n in range(len(extra))
                ),
            )
            db.conn.executemany(
                "INSERT INTO identities (contact_id, channel, address, last_inbound_at,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                ((first + n, bench.NAME, address, stamp, stamp) for n, address in enumerate(extra)),
            )
    finally:
        db.close()


def write_config(directory: Path, urls: dict[str, str], args: argparse.Namespace) -> Path:
    section = CHANNELS[args.channel].config_section(urls, args)
    if "[web]" not in section:  # never 8080: another bot may run on this machine
        section += f'\n[web]\nhost = "127.0.0.1"\nport = {free_port()}\n'
    path = directory / "config.toml"
    path.write_text(
        '[bot]\ndatabase = "formabot.db"\nquiet_hours = ""\n\n'
        + section
        + f"\n[dispatcher]\nconcurrency = {args.concurrency}\n"
        f"max_attempts = {args.max_attempts}\nbackoff_seconds = {args.backoff:g}\n"
        f"request_timeout = {args.request_timeout:g}\n",
        encoding="utf-8",
    )
    return path


def start_fake(args: argparse.Namespace) -> FakePlatform:
    """The benchmark's `FakePlatform`, serving the soak's fake instead of the plain one."""
    faults = {
        "error_5xx": args.errors_5xx,
        "hang": args.timeouts,
        "hang_seconds": args.request_timeout + 1,
        "burst_every": args.burst_every,
        "retry_after": args.retry_after,
        "seed": args.seed,
    }
    serve = partial(
        CHANNELS[args.channel].serve,
        chatters=max(args.chatters, 1),
        faults=faults,
        lost_answers=args.lost_answers,
    )
    platform = SimpleNamespace(NAME=args.channel, serve=serve)
    return FakePlatform(platform, args)  # type: ignore[arg-type]


@dataclass
class Kills:
    """When to kill (messages received), how long after, how long the bot stays down."""

    thresholds: list[int]
    delays: list[float]
    downtimes: list[float]
    log: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def draw(cls, rng: random.Random, kills: int, recipients: int) -> Kills:
        shares = sorted(rng.uniform(0.05, 0.9) for _ in range(kills))
        return cls(
            [max(1, int(share * recipients)) for share in shares],
            [rng.uniform(0, 0.5) for _ in range(kills)],
            [rng.uniform(0, 1.0) for _ in range(kills)],
        )

    def due(self, delivered: int) -> bool:
        done = len(self.log)
        return done < len(self.thresholds) and delivered >= self.thresholds[done]


# --- the run ------------------------------------------------------------------------------


def count_unknown(db: Any, announcement_id: int) -> int:
    return deliveries.report(db, announcement_id).counts.get("unknown", 0)


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    channel = CHANNELS[args.channel].BENCH
    kills = Kills.draw(random.Random(args.seed), args.kills, args.recipients)
    log(
        f"seed {args.seed}: kills when {kills.thresholds} messages have arrived, then"
        f" {[round(d, 2) for d in kills.delays]} s later; down for"
        f" {[round(d, 2) for d in kills.downtimes]} s"
    )
    budget = 300 + 60 * args.recipients / args.rate + 30 * args.kills
    with ExitStack() as stack:
        seed_database(directory / "formabot.db", args)
        fake = start_fake(args)
        stack.callback(fake.close)
        config = write_config(directory, fake.urls, args)
        bots = [Bot(config, channel.environment(), directory / "bot-0.log")]
        stack.callback(lambda: bots[-1].stop())
        bots[-1].wait_started(channel.READY)
        log(
            f"{args.channel}: rate {args.rate:g}/s, concurrency {args.concurrency},"
            f" {args.chatters} chatters; bot pid {bots[-1].process.pid}"
        )
        if args.chatters:
            fake.ask("chat", args.chat_interval / args.chatters, answer=False)
        publishing = time.monotonic()
        announcement_id = publish(config, channel.environment())
        log(f"announcement {announcement_id} published in {time.monotonic() - publishing:.1f} s")
        db = open_database(directory / "formabot.db", migrate=False)
        stack.callback(db.close)

        deadline, timed_out, shown = publishing + budget, False, 0.0
        moved, last = time.monotonic(), (-1, -1)
        while True:
            delivered = fake.ask("progress")["delivered"]
            if kills.due(delivered):
                kill_and_restart(fake, bots, kills, config, directory, channel, since=publishing)
                kills.log[-1]["unknown"] = count_unknown(db, announcement_id) - sum(
                    entry.get("unknown", 0) for entry in kills.log[:-1]
                )
                continue
            report = deliveries.report(db, announcement_id)
            if report.outstanding == 0 and report.total:
                if len(kills.log) < len(kills.thresholds):
                    log(f"the broadcast was over after {len(kills.log)} kills")
                break
            if bots[-1].process.poll() is not None:
                raise RuntimeError(f"formabot run exited by itself:\n{bots[-1].text()[-3000:]}")
            if (delivered, report.outstanding) != last:
                moved, last = time.monotonic(), (delivered, report.outstanding)
            if time.monotonic() > min(deadline, moved + STALL):
                timed_out = True
                log(
                    f"timed out: {report.outstanding} rows outstanding, no progress for"
                    f" {time.monotonic() - moved:.0f} s"
                )
                break
            if time.monotonic() - shown >= 2:
                shown = time.monotonic()
                log(f"{delivered}/{args.recipients} received; rows {report.counts}")
            time.sleep(0.05)
        duration = time.monotonic() - publishing
        fake.ask("chat", 0, answer=False)
        settle(fake)
        summary = fake.ask("summary")
        rows = db.execute(
            "SELECT address, status, reason FROM deliveries WHERE announcement_id = ?",
            [announcement_id],
        ).fetchall()
        code = bots[-1].stop()
        bot_errors = sum(bot.text().count("Traceback") for bot in bots)
        if code != 0 or bot_errors:
            log(f"formabot run ended with {code}; {bot_errors} tracebacks in its logs")
    return figures(
        args,
        summary,
        rows,
        kills=kills,
        duration=duration,
        bot_errors=bot_errors,
        exit_code=code,
        timed_out=timed_out,
        load_avg=os.getloadavg()[0],
    )


def settle(fake: FakePlatform, *, quiet: float = 3.0, most: float = 30.0) -> None:
    """The chatters' last replies: until all are in, or none came for `quiet` seconds (a
    backlog of updates behind 429 pauses drains slowly)."""
    started = changed = time.monotonic()
    seen = -1
    while time.monotonic() - started < most and time.monotonic() - changed < quiet:
        progress = fake.ask("progress")
        if progress["replies"] >= progress["pings"]:
            return
        if progress["replies"] != seen:
            seen, changed = progress["replies"], time.monotonic()
        time.sleep(0.1)


def kill_and_restart(
    fake: FakePlatform,
    bots: list[Bot],
    kills: Kills,
    config: Path,
    directory: Path,
    channel: Any,
    *,
    since: float,
) -> None:
    """SIGKILL the running bot, then a new one in `bots` (last: the one to stop at the end)."""
    bot, number = bots[-1], len(kills.log)
    time.sleep(kills.delays[number])
    bot.process.send_signal(signal.SIGKILL)
    bot.process.wait()
    at = time.monotonic() - since
    bot.stop()  # closes its log
    kills.log.append(
        {
            "after_s": round(at, 2),
            "received": fake.ask("progress")["delivered"],
            "pings_dropped": fake.ask("killed"),
        }
    )
    time.sleep(kills.downtimes[number])
    bots.append(Bot(config, channel.environment(), directory / f"bot-{number + 1}.log"))
    bots[-1].wait_started(channel.READY)
    log(f"kill {number + 1} at {at:.1f} s; restarted as pid {bots[-1].process.pid}")


# --- the figures --------------------------------------------------------------------------


def figures(
    args: argparse.Namespace,
    summary: dict[str, Any],
    rows: list[tuple[str, str, str]],
    *,
    kills: Kills,
    duration: float,
    bot_errors: int,
    exit_code: int,
    timed_out: bool,
    load_avg: float,
) -> dict[str, Any]:
    channel = CHANNELS[args.channel].BENCH
    received = array("I")
    received.frombytes(summary["received"])
    requests = array("I")
    requests.frombytes(summary["requests"])
    by_address = {address: (status, reason) for address, status, reason in rows}
    statuses: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {"failed": Counter(), "skipped": Counter()}
    lost = once = duplicated = unknown_delivered = unknown_not = 0
    sent_not_received = failed_but_received = 0
    for number in range(args.recipients):
        status, reason = by_address.get(channel.address(number), ("no row", ""))
        statuses[status] += 1
        count = received[number]
        once += count == 1
        duplicated += count > 1
        if status in reasons:
            reasons[status][reason or "(no reason)"] += 1
            failed_but_received += status == "failed" and count > 0
        if status == "unknown":
            unknown_delivered += count > 0
            unknown_not += count == 0
        reported = status == "unknown" or (status in reasons and bool(reason))
        if count == 0 and not reported:
            lost += 1
            sent_not_received += status in ("sent", "delivered", "read")
    refused = {int(code): number for code, number in summary["refused"].items()}
    pings, replies = summary["pings"], summary["replies"]
    latencies = [(replies[n] - at) * 1000 for n, at in pings.items() if n in replies]
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    return {
        "seed": args.seed,
        "recipients": args.recipients,
        "chatters": args.chatters,
        "kills": len(kills.log),
        "delivered_once": once,
        "lost": lost,
        "duplicated": duplicated,
        "unknown": statuses["unknown"],
        "unknown_delivered": unknown_delivered,
        "unknown_not_delivered": unknown_not,
        "failed": statuses["failed"],
        "failed_reasons": dict(reasons["failed"].most_common()),
        "skipped": statuses["skipped"],
        "skipped_reasons": dict(reasons["skipped"].most_common()),
        "retries": sum(requests) - sum(1 for value in requests if value),
        "http_429": refused.get(429, 0),
        "pauses_429": summary["pauses"],
        "bursts_429": summary["bursts"],
        "http_5xx": sum(
            number for code, number in refused.items() if 500 <= code < 600 and code != 504
        ),
        "timeouts": refused.get(504, 0),
        "answers_lost": summary["answers_lost"],
        "sent_not_received": sent_not_received,
        "failed_but_received": failed_but_received,
        "statuses": dict(statuses.most_common()),
        "kill_log": kills.log,
        "rate": args.rate,
        "duration_s": round(duration, 1),
        "pings": len(pings),
        "replies": len(replies),
        "replies_missing": len(pings) - len(replies),
        "replies_dropped_by_kills": summary["dropped_by_kills"],
        "replies_bot_down": summary["unreached"],
        "replies_twice": summary["replied_twice"],
        "reply_p50_ms": None if p50 is None else round(p50, 1),
        "reply_p99_ms": None if p99 is None else round(p99, 1),
        "bot_errors": bot_errors,
        "bot_exit": exit_code,
        "fake_cpu_s": round(summary["fake_cpu_s"], 1),
        "timed_out": timed_out,
        "load_avg": load_avg,
    }


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    result = run_printed(run, args, prefix="formabot-soak-", failed=f"failed (seed {args.seed})")
    if result is None:
        return 2
    bad = result["lost"] or result["duplicated"] or result["timed_out"]
    if bad:
        log(
            f"FAILED (seed {args.seed}): {result['lost']} lost, {result['duplicated']}"
            f" duplicated{', timed out' if result['timed_out'] else ''}"
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
