"""Airflow DAG: the news dedup job on a Spark cluster, with the official
Spark provider's SparkSubmitOperator (pip install apache-airflow-providers-apache-spark).

The operator runs ``spark-submit`` with the Airflow connection ``spark_default``
(its host is the master, e.g. ``spark://spark-master:7077``; the job's
``runtime.spark.master`` is left empty, so the master spark-submit gives is
used). The application is the package's ``dedup/__main__.py``; the executors
get the project's virtualenv as an archive (``venv.tar.gz``, made with
venv-pack or conda-pack from a virtualenv with ``pip install 'newsdedup[spark]'``),
unpacked as ``./venv`` in each executor's working directory. The feed, report,
state and ``TMPDIR`` (the ingest kernels' spill files) must be on a file system
the driver and every executor mount at the same paths (README.md, "Past one
machine: Spark"). ``--state`` works as locally: the driver owns the state.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3's authoring API
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

VENV_ARCHIVE = "/shared/newsdedup/venv.tar.gz"
APPLICATION = "/shared/newsdedup/venv/lib/python3.11/site-packages/dedup/__main__.py"
FEED_DIR = "/shared/feed"
REPORT_DIR = "/shared/dedup/reports"
STATE_DIR = "/shared/dedup/state"
SCRATCH = "/shared/dedup/tmp"

with DAG(
    dag_id="newsdedup_spark",
    description="Cluster the news feed into stories (newsdedup, spark engine)",
    schedule=timedelta(hours=1),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # the state lock would make an overlapping run exit 3 anyway
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
) as dag:
    SparkSubmitOperator(
        task_id="dedup_run_spark",
        conn_id="spark_default",
        application=APPLICATION,
        application_args=["run", FEED_DIR, "--out", REPORT_DIR, "--state", STATE_DIR, "--engine", "spark", "--json-log"],
        archives=f"{VENV_ARCHIVE}#venv",
        conf={
            "spark.pyspark.python": "./venv/bin/python",
            "spark.pyspark.driver.python": "/shared/newsdedup/venv/bin/python",
            "spark.executorEnv.TMPDIR": SCRATCH,
        },
        env_vars={"TMPDIR": SCRATCH, "PYSPARK_PYTHON": "./venv/bin/python"},
        name="newsdedup",
        execution_timeout=timedelta(hours=2),
    )
