"""docker-compose.yaml stays valid (checked with Debian's docker-compose when present)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_declares_the_stack():
    services = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"]
    assert {
        "mysql",
        "airflow-scheduler",
        "airflow-apiserver",
        "spark-master",
        "spark-worker",
        "gremlin-server",
        "moto",
    } <= set(services)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_compose_config_validates():
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yaml"), "config", "-q"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_airflow_settings_lists_every_connection_the_code_uses():
    from trend.airflow_support import CONN_IDS

    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())
    conn_ids = {c["conn_id"] for c in settings["airflow"]["connections"]}
    assert set(CONN_IDS.values()) | {"spark_default", "crawler_service"} <= conn_ids
