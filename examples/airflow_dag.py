"""Airflow DAG: run the news dedup job every 5 minutes.

BashOperator fails the task on a non-zero exit, so a bad config (2), a lock
held by a still-running previous run (3) or --strict rejections (4) all show
as failed tasks. max_active_runs=1 keeps Airflow from overlapping runs; the
state lock still protects against runs started elsewhere (cron, by hand).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

FEED_DIR = "/data/feed"
REPORT_DIR = "/data/dedup/reports"
STATE_DIR = "/data/dedup/state"

with DAG(
    dag_id="newsdedup",
    description="Cluster the news feed into stories (newsdedup)",
    schedule=timedelta(minutes=5),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
) as dag:
    BashOperator(
        task_id="dedup_run",
        bash_command=f"dedup run {FEED_DIR} --out {REPORT_DIR} --state {STATE_DIR} --json-log",
        execution_timeout=timedelta(minutes=30),
    )
