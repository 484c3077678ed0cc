"""Offers per second through the schema and the Kaleyra payload builder, on one core.

.venv/bin/python -m benchmarks.offer_throughput [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from connector.kaleyra import build_request
from connector.offer import OfferDefaults, OfferSchema
from connector.platforms.loose import LooseOfferSchema
from tests.conftest import offer


def rate(label: str, work: Callable[[], object], seconds: float) -> None:
    for _ in range(500):  # warm-up
        work()
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(200):
            work()
        count += 200
    print(f"  {label:<44} {count / elapsed:9.0f} offers/s  ({elapsed / count * 1e6:6.1f} µs each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    defaults = OfferDefaults(region="IN", language="en")
    strict, loose = OfferSchema(defaults=defaults), LooseOfferSchema(defaults=defaults)
    data = offer(to="98765 43210")
    zap = {**data, "body_params": "", "body_1": "Pablo", "body_2": "CARIBE25", "Coupon": "X1"}
    zap.pop("coupon_code")
    print("offer throughput, one core (full LTO offer: header, 2 body vars, expiry, coupon, URL)")
    rate("schema only (OfferSchema.load)", lambda: strict.load(data), args.seconds)
    rate(
        "schema -> payload (OfferSchema + build_request)",
        lambda: build_request(strict.load(data), "api"),
        args.seconds,
    )
    rate(
        "Zapier-style input -> payload (LooseOfferSchema)",
        lambda: build_request(loose.load(zap), "zapier"),
        args.seconds,
    )


if __name__ == "__main__":
    main()
