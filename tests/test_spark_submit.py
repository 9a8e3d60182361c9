"""The one Spark submit path: same command for every job, credentials only in the process environment."""

from __future__ import annotations

import json
import logging
import textwrap
from types import SimpleNamespace

import pytest
from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

from trend import spark_submit
from trend.config import ConfigError, MysqlSettings
from trend.spark import MARIADB_JAR, SparkSizing
from trend.spark_submit import MissingConnection, TrendSparkSubmitOperator

PASSWORD = "pw-Zq81!x"
LLM_KEY = "sk-test-7Hc2"
MASTERS = {
    "spark_local": "spark://local?deploy-mode=client&spark-binary=spark-submit",
    "spark_standalone": '{"conn_type": "spark", "host": "spark://spark-master", "port": 7077, '
    '"extra": {"deploy-mode": "client"}}',
    "spark_yarn": '{"conn_type": "spark", "host": "yarn", "extra": {"deploy-mode": "client"}}',
}


@pytest.fixture
def connections(monkeypatch):
    for conn_id, uri in MASTERS.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", uri)
    monkeypatch.setenv("AIRFLOW_CONN_MYSQL_DS_ANALYZER", f"mysql://analyst:{PASSWORD}@db.internal:3307")
    monkeypatch.setenv("AIRFLOW_CONN_OPENAI_DEFAULT", json.dumps({"conn_type": "generic", "password": LLM_KEY}))


def _prepared(job: str, conn_id: str = "spark_local", args: list[str] | None = None) -> TrendSparkSubmitOperator:
    op = TrendSparkSubmitOperator(task_id=f"t_{job}", job=job, conn_id=conn_id, application_args=args or [])
    op.prepare(SparkSizing("3g", 7), try_number=2)
    return op


def _command(op: TrendSparkSubmitOperator) -> tuple[list[str], SparkSubmitHook]:
    hook = op._get_hook()
    return hook._build_spark_submit_command(op.application), hook


def _without_job(command: list[str], job: str) -> list[str]:
    """The command with the job-specific parts (name, application) blanked."""
    return ["JOB" if job in part else part for part in command]


def test_both_jobs_get_the_same_command_shape(connections):
    analyzer, _ = _command(_prepared("analyzer_batch"))
    spvp, _ = _command(_prepared("spvp_batch"))
    assert _without_job(analyzer, "analyzer_batch") == _without_job(spvp, "spvp_batch")
    flags = dict(zip(analyzer[1::2], analyzer[2::2], strict=False))
    assert flags["--master"] == "local" and flags["--jars"] == MARIADB_JAR and flags["--driver-memory"] == "3g"
    assert flags["--py-files"].endswith(".zip") and "/trend-" in flags["--py-files"]
    assert "spark.sql.shuffle.partitions=7" in analyzer
    assert analyzer[-1].endswith("spark_jobs/analyzer_batch.py")


@pytest.mark.parametrize("conn_id", sorted(MASTERS))
def test_credentials_never_reach_the_command_or_template_fields(connections, conn_id, caplog):
    op = _prepared("spvp_batch", conn_id, ["--dataset-id", "4"])
    with caplog.at_level(logging.INFO):
        command, hook = _command(op)
    assert not [part for part in command if PASSWORD in part or LLM_KEY in part]
    rendered = {field: getattr(op, field) for field in op.template_fields}
    assert PASSWORD not in repr(rendered) and LLM_KEY not in repr(rendered)
    assert PASSWORD not in caplog.text and LLM_KEY not in caplog.text
    # ... and they are in the environment spark-submit is started with.
    assert MysqlSettings.from_url(hook._env["MYSQL_URL"]).password == PASSWORD
    assert (hook._env["OPENAI_API_KEY"], hook._env["TP_TRY_NUMBER"]) == (LLM_KEY, "2")


def test_why_env_vars_are_not_used_the_provider_puts_them_on_the_yarn_command_line(connections):
    hook = SparkSubmitHook(conn_id="spark_yarn", env_vars={"MYSQL_URL": f"mysql://a:{PASSWORD}@h"})
    assert any(PASSWORD in part for part in hook._build_spark_submit_command("job.py"))


def test_cluster_deploy_mode_is_refused(connections, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPARK_CLUSTER", '{"conn_type": "spark", "host": "yarn", "extra": {"deploy-mode": "cluster"}}'
    )
    with pytest.raises(ConfigError, match="deploy mode 'cluster'"):
        _command(_prepared("analyzer_batch", "spark_cluster"))


def test_missing_connections_are_clear_errors(connections, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_MYSQL_DS_ANALYZER")
    with pytest.raises(MissingConnection, match=r"'mysql_ds_analyzer' is not defined.*AIRFLOW_CONN_MYSQL_DS_ANALYZER"):
        spark_submit.job_credentials()
    op = TrendSparkSubmitOperator(task_id="t", job="spvp_batch", conn_id="no_such_spark")
    with pytest.raises(MissingConnection, match="'no_such_spark' is not defined"):
        op.execute({"ti": SimpleNamespace(try_number=1)})
    monkeypatch.delenv("AIRFLOW_CONN_OPENAI_DEFAULT")
    monkeypatch.setenv("AIRFLOW_CONN_MYSQL_DS_ANALYZER", "mysql://analyst@db.internal")
    assert "OPENAI_API_KEY" not in spark_submit.job_credentials()  # optional: offline backends need none
    with pytest.raises(ConfigError, match="no Spark job 'nope'"):
        TrendSparkSubmitOperator(task_id="t", job="nope")


def test_sizing_comes_from_env_then_connection_extras(connections, monkeypatch):
    monkeypatch.setenv("TP_SPARK_DRIVER_MEMORY", "5g")
    monkeypatch.setenv("TP_SPARK_SHUFFLE_PARTITIONS", "12")
    assert SparkSizing.from_env() == SparkSizing("5g", 12)
    assert SparkSizing.from_env().with_extras({"shuffle-partitions": "3"}) == SparkSizing("5g", 3)
    monkeypatch.setenv("TP_SPARK_SHUFFLE_PARTITIONS", "many")
    with pytest.raises(ConfigError, match="shuffle partitions from the environment"):
        SparkSizing.from_env()


PROBE = textwrap.dedent(
    """
    import json, os, sys
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
        parent = f.read().decode().split("\\0")
    keys = ("MYSQL_URL", "OPENAI_API_KEY", "TP_TRY_NUMBER", "PYSPARK_PYTHON")
    report = {"env": {k: os.environ.get(k) for k in keys}, "argv": sys.argv, "parent": parent, "path": sys.path}
    with open(sys.argv[1], "w") as out:
        json.dump(report, out)
    """
)


@pytest.mark.spark
def test_a_real_spark_submit_gets_credentials_in_its_environment_only(connections, monkeypatch, tmp_path, caplog):
    """spark-submit (local master) runs a probe job that reports its environment and its parent's argv."""
    (tmp_path / "probe.py").write_text(PROBE)
    monkeypatch.setattr(spark_submit, "JOBS_DIR", tmp_path)
    report = tmp_path / "report.json"
    op = TrendSparkSubmitOperator(task_id="probe", job="probe", application_args=[str(report)], conn_id="spark_local")
    with caplog.at_level(logging.INFO):
        op.execute({"ti": SimpleNamespace(try_number=3)})
    seen = json.loads(report.read_text())
    assert MysqlSettings.from_url(seen["env"]["MYSQL_URL"]).password == PASSWORD
    assert seen["env"]["OPENAI_API_KEY"] == LLM_KEY and seen["env"]["TP_TRY_NUMBER"] == "3"
    assert "org.apache.spark.deploy.SparkSubmit" in seen["parent"]  # the JVM spark-submit started
    assert not [a for a in seen["parent"] + seen["argv"] if PASSWORD in a or LLM_KEY in a]
    assert any(p.endswith(".zip") and "/trend-" in p for p in seen["path"])  # --py-files reached the driver
    assert PASSWORD not in caplog.text and LLM_KEY not in caplog.text


def test_mysql_url_round_trips_awkward_credentials():
    settings = MysqlSettings("db.internal", 3307, "an@lyst", "p@ss:w/rd%")
    assert MysqlSettings.from_url(settings.url()) == settings
    assert MysqlSettings.from_url(MysqlSettings("h", 3306, "root", "").url()) == MysqlSettings("h", 3306, "root", "")
