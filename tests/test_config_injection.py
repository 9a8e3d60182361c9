"""Database names from trigger forms and job arguments cannot carry JDBC options or SQL."""

from __future__ import annotations

import pytest

from trend.analyzer.airflow_tasks import plan_runs, submissions
from trend.analyzer.settings import AnalyzerConfig
from trend.config import ConfigError, MysqlSettings

EVIL = [
    "ds_analyzer?allowLoadLocalInfile=true",
    "ds_analyzer&user=root",
    "x`; DROP DATABASE gb_console; --",
    "../etc",
    "",
]


@pytest.mark.parametrize("name", EVIL)
def test_database_names_in_the_analyzer_config_must_be_identifiers(name):
    for key in ("ds_database", "av_database", "gb_database"):
        with pytest.raises(ConfigError, match=f"refusing {key}"):
            AnalyzerConfig.from_dict({key: name})
    assert AnalyzerConfig.from_dict({"ds_database": "t123_ds_analyzer"}).ds_db == "t123_ds_analyzer"


@pytest.mark.parametrize("name", EVIL)
def test_jdbc_urls_take_no_options_from_names(name):
    settings = MysqlSettings("db.internal", 3306, "app", "pw")
    with pytest.raises(ConfigError, match="refusing database name"):
        settings.jdbc_url(name)
    with pytest.raises(ConfigError, match="refusing MySQL host"):
        MysqlSettings("db.internal/x?allowLoadLocalInfile=true", 3306, "app", "pw").jdbc_url("ds_analyzer")
    url = settings.jdbc_url("ds_analyzer")
    assert url.startswith("jdbc:mysql://db.internal:3306/ds_analyzer?") and url.count("?") == 1


def test_trigger_form_config_is_checked_before_anything_is_submitted():
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(ConfigError, match="refusing av_database"):
        submissions([1], {"av_database": "analyzer_v2?allowLoadLocalInfile=true"})
    with pytest.raises(AirflowFailException, match="refusing ds_database"):
        plan_runs(7, {"ds_database": "x&user=root"})  # fails before it looks for datasets
    assert submissions([1], {"k_max": 8}) == [["--dataset-id", "1", "--set", "k_max=8"]]


def test_spvp_job_refuses_physical_names_that_are_not_identifiers():
    import importlib.util

    from trend.config import REPO_ROOT

    spec = importlib.util.spec_from_file_location("spvp_job", REPO_ROOT / "spark_jobs" / "spvp_batch.py")
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    with pytest.raises(ConfigError, match="refusing --db ds_analyzer"):
        job.databases(job.parse_args(["--dataset-id", "1", "--db", "ds_analyzer=ds?allowLoadLocalInfile=true"]))
    ok = job.databases(job.parse_args(["--dataset-id", "1", "--db", "ds_analyzer=other_ds"]))
    assert ok.name("ds_analyzer") == "other_ds"
