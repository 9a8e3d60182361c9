"""Qwen through an OpenAI-compatible endpoint (vLLM, DashScope, ...).

Sentences go out in prompts of ``sentences_per_request``; at most ``concurrency``
requests run at once; each request is retried with exponential backoff on
transport errors, 429/5xx and invalid answers; usage is counted per token.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from trend.spvp.prompting import (
    InvalidLLMOutput,
    LLMBudgetExhausted,
    LLMRequestFailed,
    TokenUsage,
    build_messages,
    parse_answer,
)
from trend.spvp.viewpoints import ViewpointCategory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenAISettings:
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "Qwen/Qwen2.5-7B-Instruct"
    api_key_env: str = "OPENAI_API_KEY"  # the key itself never sits in config
    sentences_per_request: int = 20
    concurrency: int = 4
    max_attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 60.0
    max_tokens: int = 1024
    json_mode: bool = True
    token_budget: int | None = None


class OpenAICompatibleMapper:
    name = "openai"

    def __init__(self, category: ViewpointCategory, settings: OpenAISettings, client=None):
        import openai

        self._openai = openai
        self.category = category
        self.settings = settings
        self.usage = TokenUsage()
        self.client = client or openai.OpenAI(
            base_url=settings.base_url,
            api_key=os.environ.get(settings.api_key_env) or "EMPTY",
            timeout=settings.timeout_seconds,
            max_retries=0,
        )

    def map(self, texts: Sequence[str]) -> list[set[int]]:
        size = max(1, self.settings.sentences_per_request)
        chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            answers = list(pool.map(self._request, chunks))
        return [ordinals for answer in answers for ordinals in answer]

    def _retryable(self, exc: Exception) -> bool:
        o = self._openai
        if isinstance(exc, (InvalidLLMOutput, o.APIConnectionError, o.APITimeoutError, o.RateLimitError)):
            return True
        return isinstance(exc, o.APIStatusError) and exc.status_code >= 500

    def _request(self, texts: list[str]) -> list[set[int]]:
        s = self.settings
        last: Exception | None = None
        for attempt in range(1, s.max_attempts + 1):
            if s.token_budget is not None and self.usage.total_tokens >= s.token_budget:
                raise LLMBudgetExhausted(f"token budget {s.token_budget} used up ({self.usage.total_tokens} tokens)")
            try:
                return self._ask(texts)
            except Exception as exc:
                if not self._retryable(exc):
                    raise LLMRequestFailed(f"LLM request rejected: {exc}") from exc
                last = exc
                self.usage.failed()
                if attempt < s.max_attempts:
                    delay = min(s.max_backoff_seconds, s.backoff_seconds * 2 ** (attempt - 1))
                    log.warning("LLM attempt %d/%d failed (%s); retrying in %.1fs", attempt, s.max_attempts, exc, delay)
                    time.sleep(delay)
        if isinstance(last, InvalidLLMOutput):
            raise last
        raise LLMRequestFailed(f"LLM endpoint failed {s.max_attempts} times: {last}") from last

    def _ask(self, texts: list[str]) -> list[set[int]]:
        s = self.settings
        kwargs: dict[str, Any] = dict(
            model=s.model, messages=build_messages(self.category, texts), temperature=0, max_tokens=s.max_tokens
        )
        if s.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        response = self.client.chat.completions.create(**kwargs)
        usage = getattr(response, "usage", None)
        self.usage.add(getattr(usage, "prompt_tokens", 0), getattr(usage, "completion_tokens", 0))
        content = response.choices[0].message.content if response.choices else ""
        return parse_answer(content or "", self.category.ordinals, len(texts))
