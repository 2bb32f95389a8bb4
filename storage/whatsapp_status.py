"""What a WhatsApp status callback means for the outbox row and for the person's identity.

Twilio reports each message's fate later, by callback: (MessageSid, MessageStatus,
ErrorCode). `interpret` says what one callback means (pure); `apply` makes it so: the
delivery row found by its provider message id is updated, an unreachable number is marked
inactive (and the notification rerouted to the person's other channel), a rate refusal puts
the row back in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage import contacts as contacts_store
from storage import deliveries
from storage.audience import DEFAULT_CHANNELS
from storage.zones import to_utc_text

CHANNEL = "whatsapp"
RATE_BACKOFF = timedelta(seconds=60)

# Twilio error codes that say something about the person, not about one message.
NOT_ON_WHATSAPP = {
    63003: "not a WhatsApp number (63003)",
    63024: "not a valid WhatsApp recipient (63024)",
}
BLOCKED_BY_USER = {63014: "blocked by the user (63014)"}
OUTSIDE_WINDOW = 63016
RATE_LIMITED = 63018
_REASONS = {
    OUTSIDE_WINDOW: "outside the 24-hour window: only a template may be sent (63016)",
    RATE_LIMITED: "WhatsApp rate limit reached (63018)",
}
_PROGRESS = {"delivered": "delivered", "read": "read"}
_FAILED = ("failed", "undelivered")


@dataclass(frozen=True)
class StatusEffect:
    """`delivery`: the row's new status (None: unchanged); `inactive`: why the identity is no
    longer usable (None: it is); `requeue`: send the row again later; `reason`: for people."""

    delivery: str | None = None
    inactive: str | None = None
    requeue: bool = False
    reason: str = ""


def interpret(status: str, error_code: int | None) -> StatusEffect:
    """What one callback means. Progress statuses (queued, sent…) change nothing."""
    status = status.lower()
    if status in _PROGRESS:
        return StatusEffect(delivery=_PROGRESS[status])
    if status not in _FAILED:
        return StatusEffect()
    if error_code in NOT_ON_WHATSAPP:
        reason = NOT_ON_WHATSAPP[error_code]
        return StatusEffect(delivery="failed", inactive=reason, reason=reason)
    if error_code in BLOCKED_BY_USER:
        reason = BLOCKED_BY_USER[error_code]
        return StatusEffect(delivery="failed", inactive=reason, reason=reason)
    if error_code == RATE_LIMITED:
        return StatusEffect(requeue=True, reason=_REASONS[RATE_LIMITED])
    if error_code in _REASONS:
        return StatusEffect(delivery="failed", reason=_REASONS[error_code])
    code = f" (error {error_code})" if error_code else ""
    return StatusEffect(delivery="failed", reason=f"{status}{code}")


@dataclass(frozen=True)
class Applied:
    effect: StatusEffect
    delivery_id: int | None  # the outbox row concerned, if the message was one
    rerouted_to: str | None = None


def apply(
    db: Database,
    *,
    message_sid: str,
    status: str,
    error_code: int | None,
    address: str | None,
    now: datetime,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
) -> Applied:
    """Make one callback's meaning so. `address` is the recipient's E.164 number (the
    callback's `To`), used for the identity effects even when the message was a reply and
    not an outbox row."""
    effect = interpret(status, error_code)
    row = db.execute(
        "SELECT id FROM deliveries WHERE provider_message_id = ? LIMIT 1", [message_sid]
    ).fetchone()
    delivery = deliveries.get(db, row[0]) if row else None
    if effect.inactive and address:
        contacts_store.mark_identity_inactive(db, CHANNEL, address, effect.inactive)
    rerouted = None
    if delivery is None:
        return Applied(effect, None)
    if effect.requeue:
        db.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, reason = ?,"
            " provider_message_id = NULL, updated_at = ?"
            " WHERE id = ? AND status IN ('sent', 'unknown')",
            [to_utc_text(now + RATE_BACKOFF), effect.reason, to_utc_text(now), delivery.id],
        )
    elif effect.delivery is not None:
        reason = effect.reason
        if effect.inactive and delivery.status in ("sent", "unknown"):
            rerouted = deliveries.reroute(db, delivery, channels=channels, now=now)
            if rerouted:
                reason = f"{reason}; sent on {rerouted} instead"
        deliveries.record_status(db, message_sid, effect.delivery, now=now, reason=reason)
    return Applied(effect, delivery.id, rerouted)


def session_of_message(db: Database, message_sid: str) -> str | None:
    """The session a notification was about, for a quick-reply button pressed under it."""
    row = db.execute(
        "SELECT a.session_id FROM deliveries d JOIN announcements a ON a.id = d.announcement_id"
        " WHERE d.provider_message_id = ? LIMIT 1",
        [message_sid],
    ).fetchone()
    return row[0] if row else None
