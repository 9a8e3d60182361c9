"""The one way Airflow submits our Spark jobs: ``TrendSparkSubmitOperator``.

Every job (``spark_jobs/<job>.py``) is submitted the same way:

- code: the ``trend`` package from the one builder ``trend.pyfiles.build_zip`` as ``--py-files``,
  the MariaDB Connector/J as ``--jars``;
- sizing: ``--driver-memory`` and ``spark.sql.shuffle.partitions`` from ``trend.spark.SparkSizing``
  (environment, overlaid by the Spark connection's extras);
- credentials: resolved from Airflow connections when the task EXECUTES and handed to the
  spark-submit process as its environment (``MYSQL_URL`` from ``mysql_ds_analyzer``,
  ``OPENAI_API_KEY`` from ``openai_default`` when defined). They are never template fields,
  never ``env_vars`` (the provider turns those into ``--conf spark.yarn.appMasterEnv.*`` /
  ``spark.kubernetes.driverEnv.*`` arguments on YARN and Kubernetes) and never arguments.

Because the environment only reaches a driver that runs where spark-submit runs, cluster
deploy mode is refused: there the secrets would have to travel on the command line.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from trend.config import REPO_ROOT, ConfigError
from trend.spark import MARIADB_JAR, TRY_NUMBER_ENV, SparkSizing

log = logging.getLogger(__name__)

JOBS_DIR = REPO_ROOT / "spark_jobs"
MYSQL_LOGICAL = "ds_analyzer"  # one server holds all three databases; the jobs name them
OPENAI_CONN_ID = "openai_default"
BASE_CONF = {"spark.ui.enabled": "false", "spark.log.level": "WARN"}


class MissingConnection(ConfigError):
    """An Airflow connection a Spark job needs is not defined."""

    def __init__(self, conn_id: str, purpose: str):
        super().__init__(
            f"Airflow connection {conn_id!r} is not defined ({purpose}); add it in the UI, "
            f"airflow_settings.yaml or as AIRFLOW_CONN_{conn_id.upper()}"
        )
        self.conn_id = conn_id


def _connection(conn_id: str, purpose: str, required: bool = True) -> Any:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if required:
            raise MissingConnection(conn_id, purpose) from None
        return None


def job_credentials() -> dict[str, str]:
    """Credentials for the job's environment, read from Airflow connections now (execute time)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from trend.airflow_support import CONN_IDS, mysql_settings

    try:
        env = {"MYSQL_URL": mysql_settings(MYSQL_LOGICAL).url()}
    except AirflowNotFoundException:
        raise MissingConnection(CONN_IDS[MYSQL_LOGICAL], "MySQL credentials of the Spark jobs") from None
    openai = _connection(OPENAI_CONN_ID, "LLM key", required=False)
    if openai is not None and openai.password:
        env["OPENAI_API_KEY"] = openai.password
    else:
        log.info("connection %s not defined or without password: the job gets no OPENAI_API_KEY", OPENAI_CONN_ID)
    return env


def runtime_env() -> dict[str, str]:
    """The venv's Python for driver and workers; spark-submit (shipped with pyspark) on PATH."""
    python_bin = str(Path(sys.executable).parent)
    return {
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "PATH": f"{python_bin}{os.pathsep}{os.environ.get('PATH', '')}",
    }


class ProcessEnvSparkSubmitHook(SparkSubmitHook):
    """SparkSubmitHook that adds ``process_env`` to the spark-submit process environment only.

    Unlike ``env_vars``, ``process_env`` never becomes a ``--conf`` argument on any master.
    """

    def __init__(self, *, process_env: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._process_env = dict(process_env)

    def _build_spark_common_args(self) -> list[str]:
        if self._process_env and self._connection["deploy_mode"] == "cluster":
            raise ConfigError(
                f"deploy mode 'cluster' (master {self._connection['master']}) would need the job's "
                "credentials on the spark-submit command line; use deploy-mode client"
            )
        args = super()._build_spark_common_args()
        self._env = {**(self._env or {}), **self._process_env}
        return args


class TrendSparkSubmitOperator(SparkSubmitOperator):
    """Submit ``spark_jobs/<job>.py``: our code, sizing and credentials added at execute time."""

    def __init__(self, *, job: str, conn_id: str = "spark_default", **kwargs: Any) -> None:
        application = JOBS_DIR / f"{job}.py"
        if not application.is_file():
            raise ConfigError(f"no Spark job {job!r}: {application} does not exist")
        kwargs.setdefault("jars", MARIADB_JAR)
        kwargs["conf"] = {**BASE_CONF, **(kwargs.get("conf") or {})}
        super().__init__(application=str(application), name=job, conn_id=conn_id, **kwargs)
        self.job = job
        self._process_env: dict[str, str] = {}

    def execute(self, context: Any) -> None:
        spark_conn = _connection(self._conn_id, "the Spark master to submit to")
        sizing = SparkSizing.from_env().with_extras(spark_conn.extra_dejson)
        self.prepare(sizing, try_number=int(context["ti"].try_number))
        return super().execute(context)

    def prepare(self, sizing: SparkSizing, try_number: int = 1) -> None:
        """Code, sizing and the process environment; the hook is (re)built from them."""
        from trend.pyfiles import build_zip

        self.py_files = self.py_files or str(build_zip())
        self.conf = {**(self.conf or {}), "spark.sql.shuffle.partitions": str(sizing.shuffle_partitions)}
        self._driver_memory = self._driver_memory or sizing.driver_memory
        self._process_env = {**runtime_env(), **job_credentials(), TRY_NUMBER_ENV: str(try_number)}
        self._hook = None

    def _get_hook(self) -> SparkSubmitHook:
        return ProcessEnvSparkSubmitHook(
            process_env=self._process_env,
            conf=self.conf,
            conn_id=self._conn_id,
            files=self.files,
            py_files=self.py_files,
            archives=self._archives,
            driver_class_path=self.driver_class_path,
            jars=self.jars,
            java_class=self._java_class,
            packages=self.packages,
            exclude_packages=self.exclude_packages,
            repositories=self._repositories,
            total_executor_cores=self._total_executor_cores,
            executor_cores=self._executor_cores,
            executor_memory=self._executor_memory,
            driver_memory=self._driver_memory,
            keytab=self.keytab,
            principal=self.principal,
            proxy_user=self.proxy_user,
            name=self.name,
            num_executors=self._num_executors,
            status_poll_interval=self._status_poll_interval,
            application_args=self.application_args,
            env_vars=self.env_vars,
            verbose=self._verbose,
            spark_binary=self._spark_binary,
            properties_file=self.properties_file,
            yarn_queue=self._yarn_queue,
            deploy_mode=self._deploy_mode,
            use_krb5ccache=self._use_krb5ccache,
            post_submit_commands=self.post_submit_commands,
            track_driver_via_k8s_api=self._track_driver_via_k8s_api,
            yarn_track_via_rm_api=self._yarn_track_via_rm_api,
            yarn_rm_auth=self._yarn_rm_auth,
        )
