"""The OpenAI labeller against a real local HTTP server speaking the chat-completions API."""

from __future__ import annotations

import json
import logging

import pytest

from tests.local_http import LocalJsonServer
from trend.analyzer.errors import AnalysisError
from trend.analyzer.labelling import (
    ClusterSummary,
    FallbackLabeller,
    LabelCache,
    OpenAILabeller,
    TfidfLabeller,
    make_labeller,
)
from trend.analyzer.settings import AnalyzerConfig
from trend.db import connect
from trend.status import ErrorCode

CLUSTER = ClusterSummary(
    3, 12, ["battery", "charge", "lasts"], ["The battery lasts all day.", "Battery life is outstanding."]
)


def _completion(content: str, tokens: int = 60) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": tokens - 10, "completion_tokens": 10, "total_tokens": tokens},
    }


class FakeOpenAI(LocalJsonServer):
    """Serves scripted (status, body) replies in order and records every request."""

    def __init__(self, replies, default=None):
        self.replies = list(replies)
        self.default = default  # served once the scripted replies run out
        self.requests: list[dict] = []
        super().__init__()

    def respond(self, method, path, headers, body):
        self.requests.append({"path": path, "body": body, "auth": headers.get("Authorization")})
        return self.replies.pop(0) if self.replies else self.default


def _config(server, **overrides) -> AnalyzerConfig:
    values = dict(
        llm_base_url=server.base_url,
        llm_model="test-model",
        llm_api_key_env="TP_TEST_LLM_KEY",
        llm_backoff_seconds=0.01,
        llm_max_retries=2,
    )
    values.update(overrides)
    return AnalyzerConfig(**values)


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("TP_TEST_LLM_KEY", "sk-test")


GOOD = json.dumps({"name": "Battery life", "description": "How long the battery lasts."})
RATE_LIMITED = (429, {"error": {"message": "slow down", "type": "rate_limit"}})


def test_success_sends_a_deterministic_json_request():
    with FakeOpenAI([(200, _completion(GOOD))]) as server:
        labeller = OpenAILabeller(_config(server))
        label = labeller.label(CLUSTER)
    assert (label.name, label.description, label.source) == ("Battery life", "How long the battery lasts.", "openai")
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["temperature"] == 0 and request["body"]["model"] == "test-model"
    assert request["body"]["response_format"] == {"type": "json_object"}
    assert "The battery lasts all day." in request["body"]["messages"][-1]["content"]
    assert labeller.budget.used == 60


def test_rate_limit_then_success_retries():
    with FakeOpenAI([RATE_LIMITED, (503, {"error": {"message": "busy"}}), (200, _completion(GOOD))]) as server:
        labeller = OpenAILabeller(_config(server))
        assert labeller.label(CLUSTER).name == "Battery life"
    assert len(server.requests) == 3 and labeller.calls == 3


def test_retries_run_out():
    with FakeOpenAI([RATE_LIMITED] * 3) as server:
        with pytest.raises(AnalysisError) as err:
            OpenAILabeller(_config(server, llm_max_retries=2)).label(CLUSTER)
    assert err.value.code is ErrorCode.LLM_REQUEST_FAILED and len(server.requests) == 3


@pytest.mark.parametrize(
    "content",
    ["not json at all", json.dumps(["a list"]), json.dumps({"description": "no name"}), json.dumps({"name": "x"})],
)
def test_malformed_output_is_rejected(content):
    with FakeOpenAI([(200, _completion(content))]) as server:
        with pytest.raises(AnalysisError) as err:
            OpenAILabeller(_config(server)).label(CLUSTER)
    assert err.value.code is ErrorCode.LLM_INVALID_OUTPUT


def test_budget_exhausted_stops_before_calling():
    other = ClusterSummary(4, 9, ["shipping"], ["Delivery arrived a day early."])
    with FakeOpenAI([(200, _completion(GOOD, tokens=250))]) as server:
        labeller = OpenAILabeller(_config(server, llm_token_budget=400))
        labeller.label(CLUSTER)
        with pytest.raises(AnalysisError) as err:
            labeller.label(other)
    assert err.value.code is ErrorCode.LLM_BUDGET_EXHAUSTED
    assert len(server.requests) == 1 and labeller.budget.used == 250


def test_cached_labels_are_not_paid_twice(db):
    cache = LabelCache(lambda: connect("ds_analyzer"))
    with FakeOpenAI([(200, _completion(GOOD))]) as server:
        first = OpenAILabeller(_config(server), cache).label(CLUSTER)
        rerun = OpenAILabeller(_config(server), cache)
        second = rerun.label(ClusterSummary(7, 12, ["battery"], list(reversed(CLUSTER.representatives))))
    assert len(server.requests) == 1 and rerun.calls == 0
    assert (second.name, second.source) == (first.name, "cache")


def test_without_a_key_the_tfidf_labeller_names_clusters_and_says_so(monkeypatch, caplog):
    monkeypatch.delenv("TP_TEST_LLM_KEY")
    with caplog.at_level(logging.WARNING):
        labeller = make_labeller(AnalyzerConfig(llm_api_key_env="TP_TEST_LLM_KEY"), None)
    assert isinstance(labeller, TfidfLabeller)
    assert "no LLM key in $TP_TEST_LLM_KEY" in caplog.text  # the fallback is logged, never silent
    label = labeller.label(CLUSTER)
    assert label.name == "battery / charge / lasts" and label.source == "tfidf"
    assert "The battery lasts all day." in label.description


def test_asking_for_the_llm_without_a_key_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.delenv("TP_TEST_LLM_KEY")
    with pytest.raises(AnalysisError, match=r"2007 LLM_NOT_CONFIGURED.*TP_TEST_LLM_KEY"):
        make_labeller(AnalyzerConfig(labeller="openai", llm_api_key_env="TP_TEST_LLM_KEY"), None)
    assert isinstance(make_labeller(AnalyzerConfig(labeller="tfidf"), None), TfidfLabeller)


def test_an_invalid_key_fails_the_labelling_loudly(api_key):
    with FakeOpenAI([(401, {"error": {"message": "Incorrect API key provided"}})]) as server:
        with pytest.raises(AnalysisError, match=r"2002 LLM_REQUEST_FAILED.*HTTP 401"):
            OpenAILabeller(_config(server), None).label(CLUSTER)


def test_auto_falls_back_to_offline_labels_when_the_llm_fails_and_records_it(caplog):
    busy = (503, {"error": {"message": "busy"}})
    other = ClusterSummary(4, 9, ["screen", "bright", "display"], ["The screen is bright."])
    third = ClusterSummary(5, 7, ["shipping", "delivery"], ["Shipping was fast."])
    with FakeOpenAI([(200, _completion(GOOD)), busy, busy, busy]) as server:
        labeller = make_labeller(_config(server, llm_max_retries=2), None)
        assert isinstance(labeller, FallbackLabeller)
        with caplog.at_level(logging.WARNING):
            labels = [labeller.label(c) for c in (CLUSTER, other, third)]
    assert [(x.name, x.source) for x in labels] == [
        ("Battery life", "openai"),
        ("screen / bright / display", "tfidf_fallback"),
        ("shipping / delivery", "tfidf_fallback"),
    ]
    assert len(server.requests) == 4  # 1 success + 3 failed attempts; the third cluster never asked the LLM
    assert labeller.failure is not None and labeller.failure.code is ErrorCode.LLM_REQUEST_FAILED
    assert "LLM labelling failed at cluster 4 ([2002]" in caplog.text and "tfidf_fallback" in caplog.text


def test_labeller_openai_never_falls_back():
    with FakeOpenAI([]) as server:
        assert isinstance(make_labeller(_config(server, labeller="openai"), None), OpenAILabeller)
