import logging

import pytest

from tests.spvp.fake_llm import FakeLLM
from trend.spvp.openai_backend import LLMNotConfigured, OpenAICompatibleMapper, OpenAISettings
from trend.spvp.prompting import InvalidLLMOutput, LLMBudgetExhausted, LLMRequestFailed, build_messages, parse_answer
from trend.spvp.viewpoints import parse_category
from trend.status import ErrorCode

CATEGORY = parse_category(
    {
        "category": "test",
        "viewpoints": [
            {"ordinal": 1, "name": "Battery", "description": "battery life", "keywords": ["battery"]},
            {"ordinal": 2, "name": "Price", "description": "value for money"},
            {"ordinal": 3, "name": "Shipping", "description": "delivery"},
        ],
    }
)
TEXTS = [
    "The battery is great.",
    "Way too costly.",
    "Shipping took ages.",
    "Nice price, battery ok.",
    "I bought it for my son.",
]
EXPECTED = [{1}, set(), {3}, {1, 2}, set()]  # the fake answers by keyword


@pytest.fixture(autouse=True)
def qwen_key(monkeypatch):
    monkeypatch.setenv("QWEN_API_KEY", "qw-test")


def mapper(fake, **overrides):
    settings = OpenAISettings(
        base_url=fake.base_url, model="qwen-test", backoff_seconds=0.01, **{"sentences_per_request": 2, **overrides}
    )
    return OpenAICompatibleMapper(CATEGORY, settings)


def test_prompt_lists_viewpoints_and_numbers_sentences():
    prompt = build_messages(CATEGORY, TEXTS[:2])[-1]["content"]
    assert "1. Battery: battery life (keywords: battery)" in prompt
    assert "[1] The battery is great." in prompt and "[2] Way too costly." in prompt


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("no json here", "no JSON object"),
        ('{"results": [{"id": 1, "viewpoints": [1]}]', "not valid JSON"),
        ('{"answer": []}', 'missing "results"'),
        ('{"results": [{"id": 1, "viewpoints": [7]}, {"id": 2, "viewpoints": []}]}', "unknown viewpoint ordinals [7]"),
        ('{"results": [{"id": 1, "viewpoints": [1]}]}', "no answer for sentences [2]"),
        ('{"results": [{"id": 1, "viewpoints": [1]}, {"id": 1, "viewpoints": []}]}', "answered twice"),
        ('{"results": [{"id": 1, "viewpoints": "1"}, {"id": 2, "viewpoints": []}]}', "not a list of integers"),
        ('{"results": [{"id": 3, "viewpoints": []}]}', "not in 1..2"),
    ],
)
def test_parse_answer_rejects_invalid_output(raw, reason):
    with pytest.raises(InvalidLLMOutput, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse_answer(raw, [1, 2, 3], 2)


def test_parse_answer_accepts_fenced_json_with_chatter():
    raw = 'Here you go:\n```json\n{"results": [{"id": 2, "viewpoints": [3, 1]}, {"id": 1, "viewpoints": []}]}\n```'
    assert parse_answer(raw, [1, 2, 3], 2) == [set(), {1, 3}]


def test_openai_backend_maps_batches_concurrently_and_counts_tokens():
    with FakeLLM(delay=0.2) as fake:
        m = mapper(fake, concurrency=2)
        assert m.map(TEXTS) == EXPECTED
    assert len(fake.requests) == 3  # 5 sentences, 2 per request
    assert fake.max_in_flight == 2  # the concurrency limit held and was used
    assert all(r["model"] == "qwen-test" and r["response_format"] == {"type": "json_object"} for r in fake.requests)
    assert m.usage.requests == 3 and m.usage.prompt_tokens > 0 and m.usage.completion_tokens > 0


def test_openai_backend_retries_server_errors_and_invalid_answers():
    with FakeLLM(script=["500", "garbage", "unknown_ordinal"]) as fake:
        m = mapper(fake, sentences_per_request=10, concurrency=1, max_attempts=4)
        assert m.map(TEXTS) == EXPECTED
    assert len(fake.requests) == 4
    assert m.usage.failed_attempts == 3
    assert m.usage.requests == 3  # the 500 carried no usage; two bad answers and the good one did


def test_openai_backend_gives_up_with_a_clear_error():
    with FakeLLM(script=["garbage"] * 3) as fake:
        with pytest.raises(InvalidLLMOutput, match="no JSON object"):
            mapper(fake, max_attempts=3, concurrency=1).map(TEXTS[:2])
    with FakeLLM(script=["500"] * 3) as fake:
        with pytest.raises(LLMRequestFailed, match="failed 3 times"):
            mapper(fake, max_attempts=3, concurrency=1).map(TEXTS[:2])
    with FakeLLM(script=["400"]) as fake:
        with pytest.raises(LLMRequestFailed, match="rejected"):
            mapper(fake, max_attempts=3, concurrency=1).map(TEXTS[:2])
        assert len(fake.requests) == 1  # a client error is not retried


def test_openai_backend_stops_at_the_token_budget():
    with FakeLLM() as fake:
        m = mapper(fake, concurrency=1, token_budget=1)
        with pytest.raises(LLMBudgetExhausted):
            m.map(TEXTS)
        assert len(fake.requests) == 1


def test_missing_endpoint_or_key_is_an_error_not_a_guess(monkeypatch, caplog):
    monkeypatch.delenv("QWEN_API_KEY")
    monkeypatch.delenv("QWEN_BASE_URL", raising=False)
    with FakeLLM() as fake:
        with pytest.raises(LLMNotConfigured, match=r"no API key in \$QWEN_API_KEY") as missing_key:
            mapper(fake)
        assert missing_key.value.code == ErrorCode.LLM_NOT_CONFIGURED
        with pytest.raises(LLMNotConfigured, match="no Qwen endpoint: define Airflow connection qwen_default"):
            OpenAICompatibleMapper(CATEGORY, OpenAISettings(allow_no_key=True))
        with caplog.at_level(logging.WARNING):  # an endpoint without auth works when said so, and is logged
            assert mapper(fake, allow_no_key=True).map(TEXTS[:2]) == EXPECTED[:2]
        assert "calling without auth" in caplog.text
        monkeypatch.setenv("QWEN_BASE_URL", fake.base_url)  # the endpoint from connection qwen_default
        monkeypatch.setenv("QWEN_API_KEY", "qw-test")
        assert OpenAICompatibleMapper(CATEGORY, OpenAISettings(model="qwen-test")).map(TEXTS[:1]) == EXPECTED[:1]
