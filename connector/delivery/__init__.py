"""Handing stored events to Kaleyra: one attempt (``attempt``), what its outcome does
(``settle``), the batched worker (``worker``) and the sweeper. Imports no Flask."""

from .attempt import attempt, retry_failed, send_logged
from .settle import Settler
from .sweeper import Sweeper
from .worker import Deliverer, WorkerConfig

__all__ = [
    "Deliverer",
    "Settler",
    "Sweeper",
    "WorkerConfig",
    "attempt",
    "retry_failed",
    "send_logged",
]
