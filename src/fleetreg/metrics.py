"""Prometheus metrics: requests by route template and status, their latency, pool usage, the
process (CPU, memory, open files), the Python runtime (garbage collections) and the build
(``fleetreg_build_info``).

With several worker processes (``fleetreg serve --workers N``) the CLI sets PROMETHEUS_MULTIPROC_DIR
before the workers start, and /metrics aggregates all of them (the process metrics are then those of
the worker that answered). No ``_created`` series: a counter's creation time is one more series per
label set that no dashboard reads.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fleetreg import __version__

disable_created_metrics()  # type: ignore[no-untyped-call]

# The collectors of this process and runtime that prometheus_client keeps (one per process).
RUNTIME_COLLECTORS: tuple[Collector, ...] = (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR)


class _BuildInfo(Collector):
    """``fleetreg_build_info{version, python}`` 1: which build answers (a gauge, as Prometheus's own
    ``*_build_info`` are, so that it also works with several worker processes)."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "fleetreg_build_info", "The fleetreg version and Python that serve.", labels=["version", "python"]
        )
        info.add_metric([__version__, platform.python_version()], 1)
        yield info


_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One set of collectors per app, in a registry of its own (several apps may live in one test run)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.multiprocess = "PROMETHEUS_MULTIPROC_DIR" in os.environ
        self.registry = CollectorRegistry()
        for collector in (*RUNTIME_COLLECTORS, _BuildInfo()):
            self.registry.register(collector)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.requests = Counter(
            "fleetreg_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fleetreg_http_request_duration_seconds",
            "Time from request to the end of the response, by method, route template and status.",
            ["method", "route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.pool_open = Gauge(
            "fleetreg_db_pool_connections",
            "Database connections open in the pool.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.pool_in_use = Gauge(
            "fleetreg_db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.pool_max = Gauge(
            "fleetreg_db_pool_connections_max",
            "The pool's maximum size.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

        self.reads = Counter(
            "fleetreg_db_reads",
            "Reads outside a transaction, by the database that served them (primary, replica0...).",
            ["database"],
            registry=self.registry,
        )
        self.replica_lag = Gauge(
            "fleetreg_db_replica_lag_seconds",
            "How far each replica was behind the primary at its last check; -1: unreachable.",
            ["replica"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._reads: dict[str, Any] = {}

    def observe_read(self, database: str) -> None:
        child = self._reads.get(database)
        if child is None:
            child = self._reads[database] = self.reads.labels(database)
        child.inc()

    def set_replica_lag(self, replicas: list[tuple[str, float | None]]) -> None:
        for name, lag in replicas:
            self.replica_lag.labels(name).set(-1 if lag is None else lag)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The labelled children are looked up once per (method, route, status): ``labels()`` takes a
        # lock and validates its arguments on every call, a measurable share of a fast request.
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            code = str(status)
            children = self._children[key] = (
                self.requests.labels(method, route, code),
                self.latency.labels(method, route, code),
            )
        children[0].inc()
        children[1].observe(seconds)

    def set_pool_usage(self, open_connections: int, in_use: int, maximum: int) -> None:
        self.pool_open.set(open_connections)
        self.pool_in_use.set(in_use)
        self.pool_max.set(maximum)

    def render(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            for collector in (*RUNTIME_COLLECTORS, _BuildInfo()):
                registry.register(collector)
            return generate_latest(registry)
        return generate_latest(self.registry)
