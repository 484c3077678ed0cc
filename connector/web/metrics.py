"""``GET /metrics``: Prometheus text, computed from the store at scrape time.

Figures come from the tables, not from process memory, so one scrape of any gunicorn worker on
any host sees the whole deployment: events by status, deliveries, retries, dead letters,
uncertain sends, queue depth and age, upstream latency, paused accounts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ..store import EventStore, stats

STATUSES = ("queued", "leased", "sending", "accepted", "failed", "dead", "uncertain", "expired")


class StoreCollector(Collector):
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        db = self.store.db
        counts = stats.event_counts(db)
        received = CounterMetricFamily("lto_events_received", "Messages accepted into the store")
        received.add_metric([], sum(counts.values()))
        yield received
        delivered = CounterMetricFamily("lto_messages_delivered", "Messages Kaleyra accepted")
        delivered.add_metric([], counts.get("accepted", 0))
        yield delivered
        by_status = GaugeMetricFamily("lto_events", "Messages by status", labels=["status"])
        for status in STATUSES:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        depth = GaugeMetricFamily("lto_queue_depth", "Messages waiting to be delivered")
        depth.add_metric([], counts.get("queued", 0))
        yield depth
        oldest = stats.oldest_queued_ms(db)
        age = GaugeMetricFamily("lto_queue_oldest_age_seconds", "Age of the oldest queued message")
        age.add_metric([], max(0.0, time.time() - oldest / 1000) if oldest else 0.0)
        yield age
        attempt = stats.attempt_stats(db)
        outcomes = CounterMetricFamily(
            "lto_upstream_attempts", "Requests to Kaleyra by outcome", labels=["outcome"]
        )
        for outcome in ("accepted", "failed", "uncertain"):
            outcomes.add_metric([outcome], attempt["outcomes"].get(outcome, 0))
        yield outcomes
        retried = CounterMetricFamily("lto_retries", "Attempts after a message's first")
        retried.add_metric([], attempt["retries"])
        yield retried
        histogram = HistogramMetricFamily("lto_upstream_latency_seconds", "Kaleyra request latency")
        histogram.add_metric(
            [],
            [(str(b / 1000), n) for b, n in attempt["buckets"]] + [("+Inf", attempt["count"])],
            sum_value=attempt["sum_ms"] / 1000,
        )
        yield histogram
        paused = GaugeMetricFamily("lto_account_paused", "1 while an account is paused",
                                   labels=["account"])  # fmt: skip
        for name in stats.paused_accounts(db):
            paused.add_metric([name], 1)
        yield paused
        reported = CounterMetricFamily(
            "lto_delivery_statuses", "Delivery statuses Kaleyra reported", labels=["status"]
        )
        for status, count in sorted(stats.status_counts(db).items()):
            reported.add_metric([status], count)
        yield reported
        outbox = GaugeMetricFamily("lto_notifications", "Status notifications to the platforms",
                                   labels=["target", "state"])  # fmt: skip
        for (target, state), count in sorted(stats.notification_counts(db).items()):
            outbox.add_metric([target, state], count)
        yield outbox
        early = GaugeMetricFamily("lto_early_reports", "Delivery reports waiting for their message")
        early.add_metric([], stats.early_report_count(db))
        yield early


def metrics_blueprint(store: EventStore) -> Blueprint:
    bp = Blueprint("metrics", __name__)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(store))

    @bp.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return bp
