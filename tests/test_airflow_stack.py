"""The local Airflow stack's parts that are quick to check on their own (the whole stack runs in
test_airflow_scheduler_e2e.py): metadata database choice, settings files, emitters, the CLI."""

from __future__ import annotations

import json
import secrets
import socket

import pytest
import yaml

from trend import airflow_tasks
from trend.config import REPO_ROOT
from trend_dev import airflow_stack
from trend_dev.airflow_metadata import MetadataError, PostgresAdmin, choose

PG = PostgresAdmin()


def test_settings_file_becomes_connections_airflow_can_read(tmp_path):
    from airflow.models.connection import Connection

    env = airflow_stack.settings_env(REPO_ROOT / "airflow_settings.yaml")
    doc = yaml.safe_load((REPO_ROOT / "airflow_settings.yaml").read_text())["airflow"]
    assert {k for k in env if k.startswith("AIRFLOW_CONN_")} == {
        f"AIRFLOW_CONN_{c['conn_id'].upper()}" for c in doc["connections"]
    }
    crawler = Connection.from_json(env["AIRFLOW_CONN_CRAWLER_SERVICE"], conn_id="crawler_service")
    assert (crawler.conn_type, crawler.host, crawler.port, crawler.schema) == ("http", "crawler", 8000, "http")
    assert crawler.extra_dejson["job_timeout"] == 1800
    local = tmp_path / "local.yaml"
    local.write_text("airflow:\n  variables:\n    - {variable_name: spvp_config, variable_value: {batch_size: 8}}\n")
    assert airflow_stack.settings_env(local) == {"AIRFLOW_VAR_SPVP_CONFIG": json.dumps({"batch_size": 8})}


def test_without_postgres_the_metadata_is_sqlite(tmp_path, monkeypatch):
    monkeypatch.setenv("TP_PG_PORT", str(airflow_stack.free_port()))  # nothing listens there
    chosen = choose(tmp_path, "taf_unused", tmp_path / "pw")
    assert (chosen.kind, chosen.url) == ("sqlite", f"sqlite:///{tmp_path}/airflow.db")
    with pytest.raises(MetadataError, match="no PostgreSQL answers"):
        choose(tmp_path, "taf_unused", tmp_path / "pw", mode="postgres")
    with pytest.raises(MetadataError, match="refusing PostgreSQL name"):
        PG.ensure("bad-name; DROP", "ab" * 8)


@pytest.mark.skipif(not PG.answers(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_postgres_role_and_database_are_created_idempotently_and_dropped(tmp_path):
    import psycopg2

    name = f"taf_t_{secrets.token_hex(3)}"
    try:
        first = choose(tmp_path, name, tmp_path / "pw", mode="postgres")
        again = choose(tmp_path, name, tmp_path / "pw", mode="postgres")  # reuses the stored password
        assert first == again and first.kind == "postgresql" and name in str(first)
        assert "pw" not in str(first) and (tmp_path / "pw").read_text().strip() not in str(first)
        assert oct((tmp_path / "pw").stat().st_mode & 0o777) == "0o600"
        conn = psycopg2.connect(first.url.replace("postgresql+psycopg2", "postgresql"))
        with conn, conn.cursor() as cur:
            cur.execute("SELECT current_user, current_database()")
            assert cur.fetchone() == (name, name)
        conn.close()
    finally:
        PG.drop(name)
        PG.drop(name)
    assert PG.run(f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}'").strip() == "0"


def test_emitters_skip_when_nothing_changed():
    from airflow.sdk.exceptions import AirflowSkipException

    with pytest.raises(AirflowSkipException, match="no crawl_results event"):
        airflow_tasks.announce_crawl_results({"claimed": 0, "rejected": 0, "recorded": {}})
    assert airflow_tasks.announce_crawl_results({"claimed": 0, "rejected": 2}) == "2 crawl items changed"
    with pytest.raises(AirflowSkipException, match="no pending_datasets event"):
        airflow_tasks.announce_pending_datasets([{"created": False}])  # a rerun found its dataset
    assert airflow_tasks.announce_pending_datasets([{"created": True}, {"created": False}]) == "1 datasets created"
    with pytest.raises(AirflowSkipException, match="no analysed_datasets event"):
        airflow_tasks.announce_analysed_datasets(0)
    assert airflow_tasks.announce_analysed_datasets(3) == "3 histories ready for SPVP"


def test_make_airflow_refuses_a_port_in_use(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert airflow_stack.cmd_start(tmp_path / "stack", port, "sqlite", None, False) == 2
    assert f"port {port} is in use" in capsys.readouterr().out
    assert not (tmp_path / "stack" / "run").exists()  # nothing was started
