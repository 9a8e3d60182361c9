"""The spark-submit entrypoint's arguments and the DAG task helpers (no Spark, no Airflow)."""

import json

import pytest
from spark_jobs import spvp_batch

from tests.spvp import seed
from trend.config import ConfigError
from trend.spvp import airflow_tasks as tasks
from trend.spvp.settings import SpvpConfig
from trend.spvp.spark_source import OrderViolation, in_id_order


def test_job_arguments_carry_no_secret_and_the_server_comes_from_env(monkeypatch):
    monkeypatch.setenv("MYSQL_URL", "mysql://app:url-secret@db.internal:3307")
    args = tasks.spark_job_args([4, 9], rerun=True, config_json='{"backend": "openai"}')
    assert args[1] == ["--dataset-id", "9", "--rerun", "--config", '{"backend": "openai"}']
    assert not any("secret" in a or "db.internal" in a for a in args[0])
    dbs = spvp_batch.databases(spvp_batch.parse_args([*args[0][:2], "--db", "gb_console=gbx"]))
    assert (dbs.settings.host, dbs.settings.port, dbs.settings.user, dbs.settings.password) == (
        "db.internal",
        3307,
        "app",
        "url-secret",
    )
    assert dbs.name("gb_console") == "gbx" and dbs.name("ds_analyzer").endswith("ds_analyzer")
    assert "url-secret" not in repr(dbs)
    assert spvp_batch.parse_args(["--dataset-id", "1"]).resume_failed is False
    monkeypatch.setenv("TP_TRY_NUMBER", "2")
    assert spvp_batch.parse_args(["--dataset-id", "1"]).resume_failed is True
    with pytest.raises(SystemExit):
        spvp_batch.databases(spvp_batch.parse_args(["--dataset-id", "1", "--db", "nope=x"]))
    with pytest.raises(SystemExit):  # the server is no argument any more: one way for both jobs
        spvp_batch.parse_args(["--dataset-id", "1", "--mysql-host", "h2"])
    with pytest.raises(json.JSONDecodeError):
        tasks.spark_job_args([1], rerun=False, config_json="{not json")


def test_invalid_config_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown keys"):
        SpvpConfig.from_json('{"bakend": "openai"}')
    with pytest.raises(ConfigError, match="backend 'gpt'"):
        SpvpConfig.from_json('{"backend": "gpt"}')
    with pytest.raises(ConfigError, match="openai: unknown keys"):
        SpvpConfig.from_dict({"openai": {"api_key": "inline keys are refused"}})
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"batch_size": 7, "offline": {"band": 0.1}}))
    config = SpvpConfig.from_json(str(path))
    assert (config.batch_size, config.offline.band) == (7, 0.1)
    assert SpvpConfig.from_json(config.to_json()) == config


def test_rows_out_of_id_order_are_refused():
    rows = [{"sentence_id": 1}, {"sentence_id": 3}, {"sentence_id": 2}]
    with pytest.raises(OrderViolation, match="sentence 2 arrived after 3"):
        list(in_id_order(rows))


def test_pick_and_reset_tasks(db):
    category = seed.load_viewpoints(db)
    pending = seed.make_dataset(db, category, [1])
    seed.make_dataset(db, category, [1], spvp_status=seed.SpvpStatus.COMPLETED)
    assert tasks.pick_datasets(db["gb_console"], None) == ([pending], False)
    assert tasks.pick_datasets(db["gb_console"], 2) == ([2], True)
    with pytest.raises(Exception, match="no dataset history for dataset 77"):
        tasks.pick_datasets(db["gb_console"], 77)
    result = tasks.reset_category(db["ds_analyzer"], db["gb_console"], "synthetic-electronics", 0, [1])
    assert result == {"category_id": category, "viewpoints_moved": 0, "datasets_requeued": 1, "last_object_id": 0}
    with pytest.raises(Exception, match=r"no viewpoints \[42\]"):
        tasks.reset_category(db["ds_analyzer"], db["gb_console"], str(category), 0, [42])
    with pytest.raises(Exception, match="not found"):
        tasks.reset_category(db["ds_analyzer"], db["gb_console"], "no-such-category")
