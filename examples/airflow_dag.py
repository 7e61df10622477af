"""Airflow DAG: run the news dedup job every 5 minutes (Airflow 2.x and 3.x).

Where the worker finds ``dedup``: the task runs ``$DEDUP_BIN`` when the
worker's environment sets it (e.g. ``DEDUP_BIN=/srv/newsdedup/.venv/bin/dedup``,
the absolute path of the project's virtualenv), else ``dedup`` on the worker's
PATH. The variable is read by bash when the task runs, on the worker, not when
the scheduler parses this file; the project need not be installed in Airflow's
own environment.

BashOperator fails the task on a non-zero exit, so a bad config (2), a lock
held by a still-running previous run (3) or --strict rejections (4) all show
as failed tasks. max_active_runs=1 keeps Airflow from overlapping runs; the
state lock still protects against runs started elsewhere (cron, by hand).
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:  # Airflow 3 (and 2.x with the standard provider installed)
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator
try:  # Airflow 3's authoring API
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

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
        bash_command=f'"${{DEDUP_BIN:-dedup}}" run {FEED_DIR} --out {REPORT_DIR} --state {STATE_DIR} --json-log',
        execution_timeout=timedelta(minutes=30),
    )
