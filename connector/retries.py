"""When to try a queued message again: exponential backoff with jitter, honouring
Kaleyra's Retry-After, within a horizon after which the message is a dead letter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 600.0
    horizon_s: float = 86_400.0
    retry_uncertain: bool = False
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def next_attempt_ms(
        self, attempts: int, now_ms: int, created_ms: int, retry_after_s: int | None
    ) -> int | None:
        """When to try again after ``attempts`` tries, or None when the horizon is passed."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        delay_s = self.rng.uniform(ceiling / 2, ceiling)  # jitter keeps retries from bunching
        if retry_after_s:
            delay_s = max(delay_s, float(retry_after_s))
        at = now_ms + int(delay_s * 1000)
        return None if at > created_ms + self.horizon_s * 1000 else at
