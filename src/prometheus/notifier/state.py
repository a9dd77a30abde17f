"""What was already sent, in a small JSON file written atomically.

An entry per (dedup key, destination): the dedup key is team + failing node ids +
statuses (see ``routing.dedup_key``), the destination is e.g. ``slack:finance_risk``.
A message is not sent again to a destination that got it less than the suppression
interval ago; a destination that failed is not recorded, so the next run retries it.
Entries older than ``KEEP`` are dropped on save.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

VERSION = 1
KEEP = timedelta(days=30)
DEFAULT_STATE_FILE = "artifacts/notifier/state.json"


class StateError(Exception):
    pass


@dataclass
class SentLog:
    path: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def entry_key(dedup_key: str, destination: str) -> str:
        return f"{dedup_key}@{destination}"

    @classmethod
    def load(cls, path: Path | str) -> SentLog:
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StateError(
                f"{path}: state file unreadable ({exc}); fix or delete it to resend everything"
            ) from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise StateError(f"{path}: not a notifier state file (version {VERSION})")
        entries = data.get("sent")
        if not isinstance(entries, dict):
            raise StateError(f"{path}: 'sent' is missing")
        return cls(path, entries)

    def sent_at(self, dedup_key: str, destination: str) -> datetime | None:
        entry = self.entries.get(self.entry_key(dedup_key, destination))
        if not entry:
            return None
        try:
            return datetime.fromisoformat(entry["sent_at"])
        except (KeyError, TypeError, ValueError):
            return None

    def suppressed(self, dedup_key: str, destination: str, now: datetime, hours: float) -> bool:
        """Sent to this destination within the last ``hours`` (a clock that went
        backwards, e.g. a replay with an earlier --at, also counts as recent)."""
        sent = self.sent_at(dedup_key, destination)
        return sent is not None and now - sent < timedelta(hours=hours)

    def record(self, dedup_key: str, destination: str, now: datetime, **info: Any) -> None:
        self.entries[self.entry_key(dedup_key, destination)] = {
            "dedup_key": dedup_key,
            "destination": destination,
            "sent_at": now.isoformat(),
            **info,
        }

    def save(self, now: datetime) -> None:
        """Write atomically: a temporary file in the same folder, fsync, rename."""
        keep = {
            k: v
            for k, v in self.entries.items()
            if (sent := self.sent_at(v.get("dedup_key", ""), v.get("destination", ""))) is None
            or now - sent < KEEP
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": VERSION, "sent": keep}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.entries = keep
