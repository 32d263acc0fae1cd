"""The sync badge and what it stands for: the records still waiting, refused or in conflict; Send now."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fieldapp.core.records import RecordType
from fieldapp.store.document import SyncState
from fieldapp.sync import enrollment
from fieldapp.sync.errors import SyncError, Unreachable
from fieldapp.ui.messages import server_problem
from fieldapp.ui.models.home import place_of
from fieldapp.ui.models.refusals import refusal_lines
from fieldapp.ui.models.session import Session

ORDER = {SyncState.REJECTED: 0, SyncState.CONFLICT: 1, SyncState.PENDING: 2}  # refusals first


@dataclass
class OutboxRow:
    """A record that is not sent: waiting, refused or in conflict, with what to do about it."""

    id: str
    type: RecordType
    title: str
    state: SyncState
    reasons: list[str]
    call_id: str

    @property
    def route(self) -> str:
        """Where it is fixed: a call's page, or the recovery's own form."""
        return f"/call/{self.call_id}" if self.type == RecordType.CALL else f"/recovery/{self.id}"


def linked_server(data_dir: Path) -> str | None:
    """The server this phone is linked to, None when it is not (or its link cannot be read)."""
    try:
        linked = enrollment.load(data_dir)
    except SyncError:
        return None
    return linked.server_url if linked else None


class OutboxModel:
    def __init__(self, session: Session):
        self.s = session

    def counts(self) -> dict[str, int]:
        """The store's records by sync state: what the badge counts."""
        return self.s.store.counts()

    def rows(self) -> list[OutboxRow]:
        """What the badge stands for: every record still waiting, refused or in conflict, refusals first."""
        t = self.s.t
        rows = []
        for r in self.s.store.iter_current():
            if r.state is SyncState.SENT:
                continue
            data = r.record["data"]
            if r.type == RecordType.CALL:
                title = t.join([t('incident.' + data['incident_type']), place_of(r.record), data['received_at'][11:16]])
                call_id = r.id
            else:
                title = t.join([f"{t('outcome.' + data['outcome'])} × {t.isolate(data['count'])}", data['recovered_at'][11:16]])
                call_id = data["call_id"]
            reasons = refusal_lines(r.errors, t) if r.state is SyncState.REJECTED else []
            rows.append(OutboxRow(r.id, RecordType(r.type), title, r.state, reasons, call_id))
        rows.sort(key=lambda row: ORDER.get(row.state, 3))
        return rows

    def badge(self) -> str:
        """The sync badge: all sent / N waiting / sending n of m / offline since / N refused."""
        t, worker = self.s.t, self.s.worker
        status = worker.status if worker is not None else None
        counts = self.s.store.counts()
        waiting = counts["pending"]
        problem = getattr(status, "problem", None)  # the failure's class (fieldapp.sync.errors)
        if status is not None and status.phase == "sending" and status.of:
            text = t("badge.sending", n=status.sending, m=status.of)
        elif status is not None and status.phase == "offline" and waiting:
            since = status.offline_since.strftime("%H:%M") if status.offline_since else "?"
            # The phone has a network and the server does not answer at its address: say which.
            silent = problem is not None and issubclass(problem, Unreachable)
            text = t("badge.unreachable" if silent else "badge.offline", time=since, n=waiting)
        elif status is not None and status.phase == "not_enrolled" and waiting:
            text = t("badge.not_enrolled", n=waiting)
        elif status is not None and status.phase == "error" and waiting:
            text = t("badge.error", n=waiting, problem=server_problem(problem, getattr(status, "reason", None), t))
        elif waiting:
            text = t("badge.waiting", n=waiting)
        else:
            text = t("badge.all_sent")
        extra = []
        if counts["rejected"]:
            extra.append(t("badge.refused", n=counts["rejected"]))
        if counts["conflict"]:
            extra.append(t("badge.conflicts", n=counts["conflict"]))
        photos = self.s.store.photos.counts()["photos_waiting"]  # beside the records: sent after them
        if photos:
            extra.append(t("badge.photos_waiting", n=photos))
        return " · ".join([text, *extra])

    def send_now(self) -> str:
        """Ask the worker for a pass now, and say what that does (the badge then follows the pass)."""
        t, worker = self.s.t, self.s.worker
        waiting = self.s.store.counts()["pending"]
        if worker is not None:
            worker.send_now()
        if not waiting:
            self.s.notice = t("send.nothing")
        elif linked_server(self.s.data_dir) is None:
            self.s.notice = t("send.not_linked", n=waiting)
        else:
            self.s.notice = t("send.started", n=waiting)
        return self.s.notice
