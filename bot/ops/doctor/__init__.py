"""Is this installation fit to run? The checks behind `formabot doctor`, one module per kind.

An operator runs doctor after installing, after changing the config or the secrets, and when the
bot misbehaves. Each check returns `Finding`s (OK/WARN/FAIL/SKIP) that say what is wrong and how
to fix it; nothing is changed (the database is only read). Secrets are never printed: whatever a
library says is cleaned of them first (`findings.redacted`).
"""

from __future__ import annotations

from bot.ops.doctor.diagnosis import diagnose
from bot.ops.doctor.findings import Finding, render

__all__ = ["Finding", "diagnose", "render"]
