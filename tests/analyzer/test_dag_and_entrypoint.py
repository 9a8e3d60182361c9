"""The DAG's shape, its task helpers, the Spark entrypoint's arguments and the docs table."""

from __future__ import annotations

import pytest

from trend.analyzer import airflow_tasks
from trend.analyzer.docs import error_code_table
from trend.analyzer.job import RunResult
from trend.config import REPO_ROOT, ConfigError
from trend.spark_submit import TrendSparkSubmitOperator

DAG_FILE = REPO_ROOT / "dags" / "analyzer_batch.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["analyzer_batch"]


def test_dag_wires_plan_submit_then_sync(dag):
    tasks = dag.task_dict
    assert set(tasks) == {"plan", "analyse_dataset", "sync_histories", "announce"}
    assert tasks["analyse_dataset"].upstream_task_ids == {"plan"}
    assert tasks["sync_histories"].upstream_task_ids == {"analyse_dataset"}
    assert tasks["sync_histories"].trigger_rule == "all_done"  # histories learn about failures too
    assert tasks["announce"].upstream_task_ids == {"sync_histories"}
    assert [o.name for o in tasks["announce"].outlets] == ["analysed_datasets"]  # spvp_batch's schedule
    submit = tasks["analyse_dataset"]
    assert submit.operator_class is TrendSparkSubmitOperator
    assert submit.partial_kwargs["job"] == "analyzer_batch"
    assert not {"env_vars", "conf", "py_files", "application"} & set(submit.partial_kwargs)  # all in the operator
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert set(dag.params.keys()) == {"dataset_id", "config"}


def test_plan_gives_one_submission_per_dataset():
    plans = airflow_tasks.submissions([4, 9], {"k_max": 8, "force": True})
    assert plans == [
        ["--dataset-id", "4", "--set", "force=true", "--set", "k_max=8"],
        ["--dataset-id", "9", "--set", "force=true", "--set", "k_max=8"],
    ]
    assert airflow_tasks.submissions([], None) == []


def _entrypoint():
    import importlib.util

    spec = importlib.util.spec_from_file_location("analyzer_batch_job", REPO_ROOT / "spark_jobs" / "analyzer_batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entrypoint_reads_config_file_and_overrides(tmp_path):
    job = _entrypoint()
    config_file = tmp_path / "analyzer.json"
    config_file.write_text('{"k_max": 7, "llm_model": "gpt-x"}')
    args = job.parse_args(
        ["--dataset-id", "12", "--config", str(config_file), "--set", "k_max=9", "--set", "similarity_method=lsh"]
    )
    config = job.load_config(args)
    assert (args.dataset_id, config.k_max, config.llm_model, config.similarity_method) == (12, 9, "gpt-x", "lsh")
    with pytest.raises(ConfigError):
        job.load_config(job.parse_args(["--dataset-id", "1", "--set", "password=x"]))


@pytest.mark.parametrize(
    "status, code, expected", [(3, None, 0), (9, 1003, 0), (9, 2002, 1), (9, 3002, 1), (None, 1007, 2)]
)
def test_entrypoint_exit_codes(status, code, expected):
    assert _entrypoint().exit_code(RunResult(1, status, code)) == expected


@pytest.mark.parametrize("document", ["docs/analyzer.md", "README.md"])
def test_error_code_tables_match_the_enum(document):
    assert error_code_table() in (REPO_ROOT / document).read_text(encoding="utf-8")
