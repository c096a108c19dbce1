"""The one place that builds the stream jobs from their settings, and runs them."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import faust

from services.stream_jobs import domain
from services.stream_jobs.agents import JobsConfig, build_app, epoch_of
from services.stream_jobs.settings import Settings
from shared.events.topics import ALL_TOPICS
from shared.runtime.kafka_admin import ensure_topics, run_sync


def config_of(settings: Settings) -> JobsConfig:
    """The faust app's plain values from the settings."""
    return JobsConfig(
        group=settings.consumer_group,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        partitions=settings.topic_partitions,
        web_host=settings.http_host,
        web_port=settings.http_port,
        policy=domain.ReorderPolicy(
            lead_time_days=settings.lead_time_days,
            demand_window_days=settings.demand_window_days,
            safety_stock_days=settings.safety_stock_days,
            safety_stock_units=settings.safety_stock_units,
            cover_days=settings.cover_days,
        ),
        publish_interval_seconds=settings.publish_interval_seconds,
        commit_interval_seconds=settings.commit_interval_seconds,
        data_dir=settings.data_dir
        or str(Path(tempfile.gettempdir()) / f"oms-{settings.consumer_group}"),
        broker_check_seconds=settings.broker_check_seconds,
    )


def run(settings: Settings) -> None:
    """Create the OMS topics (with their partition counts, before faust would auto-create
    them with the broker's default), find the broker's epoch, then run the faust worker until
    SIGTERM or SIGINT (or until it finds the broker lost its log: exit status 75)."""
    config = config_of(settings)
    run_sync(ensure_topics(config.bootstrap_servers, ALL_TOPICS, config.partitions))
    epoch = run_sync(epoch_of(config))
    app = build_app(dataclasses.replace(config, epoch=epoch))
    worker = faust.Worker(app, loglevel=settings.log_level, quiet=True)
    worker.execute_from_commandline()
