"""A worker's writes as data (``QueueOp``), so they can run where they are cheapest.

In a worker, dozens of sender threads keep the interpreter lock busy; a database call made there
waits for the lock again after every row SQLite hands back (measured: a claim of twenty events
took 20 ms instead of 2). When the host's commit process can be reached (the embedded worker of
``serve``), the worker sends its claims, marks and outcomes there as JSON and gets the results
back; otherwise the same op runs as a unit of the worker's own group committer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy.engine import Connection

from .events import Event, event_row
from .outbox import claim_notifications, fan_out, record_notifications
from .queue import (
    Claimed,
    Recorded,
    Released,
    Settlement,
    claim_due,
    expire_leases,
    mark_sending,
    record,
    release,
)
from .statuses import ApplyReports, apply_reports, match_early

SETTLEMENT_FIELDS = tuple(f.name for f in fields(Settlement))


def claim_accounts(
    conn: Connection,
    *,
    wants: Mapping[str, int],
    now: int,
    lease_ms: int,
    owner: str,
    expiry_margin_ms: int,
    ids: list[str] | None = None,
) -> dict[str, Claimed]:
    """``claim_due`` for several accounts in one transaction: {account: its claim}."""
    return {
        account: claim_due(conn, account=account, now=now, limit=limit, lease_ms=lease_ms,
                           owner=owner, expiry_margin_ms=expiry_margin_ms, ids=ids or ())
        for account, limit in wants.items()
    }  # fmt: skip


def _claims_out(result: dict[str, Claimed]) -> Any:
    return {
        account: {"to_send": [event_row(e) for e in c.to_send],
                  "expired": [event_row(e) for e in c.expired]}
        for account, c in result.items()
    }  # fmt: skip


def _claims_in(data: Any) -> dict[str, Claimed]:
    return {
        account: Claimed([Event.from_row(r) for r in c["to_send"]],
                         [Event.from_row(r) for r in c["expired"]])
        for account, c in data.items()
    }  # fmt: skip


def _settlement_out(settlement: Settlement) -> dict[str, Any]:
    """A settlement as JSON-ready data (``asdict`` deep-copies; this runs per message)."""
    return {name: getattr(settlement, name) for name in SETTLEMENT_FIELDS}


def _settlement_in(data: dict[str, Any] | Settlement) -> Settlement:
    if isinstance(data, Settlement):  # run here: already one
        return data
    pause = data.get("pause")
    return Settlement(**(data | {"pause": tuple(pause) if pause else None}))


@dataclass(frozen=True)
class Op:
    run: Callable[..., Any]
    result_out: Callable[[Any], Any] = lambda result: result
    result_in: Callable[[Any], Any] = lambda data: data
    args_in: Callable[[dict[str, Any]], dict[str, Any]] = lambda args: args


OPS: dict[str, Op] = {
    "claim_accounts": Op(claim_accounts, _claims_out, _claims_in),
    "mark_sending": Op(
        mark_sending,
        lambda r: {"sending": sorted(r.sending), "returned": sorted(r.returned)},
        lambda d: Released(set(d["sending"]), set(d["returned"])),
    ),
    "record": Op(
        record,
        asdict,
        lambda d: Recorded(d["settled"], d["stale"], d["paused"]),
        lambda args: args | {"settlements": [_settlement_in(s) for s in args["settlements"]]},
    ),
    "release": Op(release),
    "expire_leases": Op(expire_leases, list, tuple),
    # delivery reports (connector/reports) and the platforms' outbox (connector/notify)
    "apply_reports": Op(apply_reports),
    "match_early": Op(match_early),
    "fan_out": Op(fan_out),
    "claim_notifications": Op(claim_notifications),
    "record_notifications": Op(record_notifications),
}


@dataclass(frozen=True)
class QueueOp:
    """One of ``OPS`` with its keyword arguments (JSON-ready when sent to the commit process;
    ``record``'s settlements go as dicts)."""

    name: str
    args: dict[str, Any]

    def __call__(self, conn: Connection) -> Any:
        op = OPS[self.name]
        return op.run(conn, **op.args_in(self.args))

    def unit(self) -> Callable[[Connection], Any]:
        """What a group commit runs: a batchable unit where the op has one (the callbacks'
        reports of one group are applied together), else the op itself."""
        if self.name == "apply_reports":
            return ApplyReports(**self.args)
        return self

    def wire(self) -> dict[str, Any]:
        """The arguments as JSON-ready data."""
        if self.name == "record":
            return self.args | {
                "settlements": [_settlement_out(s) for s in self.args["settlements"]]
            }
        return self.args

    @classmethod
    def from_wire(cls, name: str, args: dict[str, Any]) -> QueueOp:
        if name not in OPS:
            raise ValueError(f"unknown queue operation {name!r}")
        return cls(name, args)
