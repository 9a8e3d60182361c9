"""Prompts for the Qwen backends and strict validation of their JSON answers.

The prompt numbers the sentences 1..n (short, and independent of database ids)
and lists the allowed viewpoint ordinals. The answer must be
``{"results": [{"id": 1, "viewpoints": [2, 5]}, ...]}`` with every id exactly
once and only allowed ordinals; anything else raises InvalidLLMOutput.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from trend.spvp.viewpoints import ViewpointCategory
from trend.status import ErrorCode


class LLMError(RuntimeError):
    code = ErrorCode.SPVP_MAPPING_FAILED


class InvalidLLMOutput(LLMError):
    """The model answered, but not with JSON that validates."""

    code = ErrorCode.LLM_INVALID_OUTPUT

    def __init__(self, reason: str, raw: str = ""):
        excerpt = raw if len(raw) <= 200 else raw[:200] + "..."
        super().__init__(f"invalid LLM output: {reason}; got {excerpt!r}")
        self.reason = reason


class LLMRequestFailed(LLMError):
    code = ErrorCode.LLM_REQUEST_FAILED


class LLMBudgetExhausted(LLMError):
    code = ErrorCode.LLM_BUDGET_EXHAUSTED


@dataclass
class TokenUsage:
    """Token accounting shared by the worker threads of one backend."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failed_attempts: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def add(self, prompt: int, completion: int) -> None:
        with self._lock:
            self.requests += 1
            self.prompt_tokens += int(prompt or 0)
            self.completion_tokens += int(completion or 0)

    def failed(self) -> None:
        with self._lock:
            self.failed_attempts += 1

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


SYSTEM = (
    "You label product review sentences with the viewpoints they talk about. "
    "A sentence may match several viewpoints or none. Answer with JSON only."
)


def build_messages(category: ViewpointCategory, texts: Sequence[str]) -> list[dict[str, str]]:
    lines = [f"Viewpoints of '{category.name}':"]
    for v in category.viewpoints:
        extra = f" (keywords: {', '.join(v.keywords)})" if v.keywords else ""
        lines.append(f"{v.ordinal}. {v.name}: {v.description}{extra}".rstrip(": "))
    lines.append("")
    lines.append("Sentences:")
    lines += [f"[{i}] {' '.join(t.split())}" for i, t in enumerate(texts, 1)]
    lines.append("")
    lines.append(
        'Reply as {"results": [{"id": <sentence number>, "viewpoints": [<viewpoint numbers>]}]} '
        f"with one entry for each sentence 1..{len(texts)}; use [] when none applies."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def _json_object(raw: str) -> object:
    text = raw.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise InvalidLLMOutput("no JSON object", raw)
    try:
        return json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise InvalidLLMOutput(f"not valid JSON ({exc.msg})", raw) from None


def parse_answer(raw: str, allowed: Sequence[int], count: int) -> list[set[int]]:
    """Validate an answer for ``count`` sentences; returns the ordinals per sentence."""
    data = _json_object(raw or "")
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise InvalidLLMOutput('missing "results" list', raw)
    allowed_set = set(allowed)
    out: dict[int, set[int]] = {}
    for entry in results:
        if not isinstance(entry, dict):
            raise InvalidLLMOutput("a result is not an object", raw)
        sid, ordinals = entry.get("id"), entry.get("viewpoints")
        if isinstance(sid, bool) or not isinstance(sid, int) or not 1 <= sid <= count:
            raise InvalidLLMOutput(f"sentence id {sid!r} is not in 1..{count}", raw)
        if sid in out:
            raise InvalidLLMOutput(f"sentence {sid} answered twice", raw)
        if not isinstance(ordinals, list) or not all(isinstance(o, int) and not isinstance(o, bool) for o in ordinals):
            raise InvalidLLMOutput(f"viewpoints of sentence {sid} is not a list of integers", raw)
        unknown = set(ordinals) - allowed_set
        if unknown:
            raise InvalidLLMOutput(f"unknown viewpoint ordinals {sorted(unknown)} for sentence {sid}", raw)
        out[sid] = set(ordinals)
    missing = sorted(set(range(1, count + 1)) - set(out))
    if missing:
        raise InvalidLLMOutput(f"no answer for sentences {missing}", raw)
    return [out[i] for i in range(1, count + 1)]
