"""Naming clusters: an OpenAI-compatible chat model when a key is configured, else c-TF-IDF.

The LLM path: temperature 0, JSON output validated, retries with exponential
backoff on 429 / 5xx / timeouts, a token budget per dataset, and a cache table
keyed by model + representative sentences so reruns never pay twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from trend.analyzer.errors import AnalysisError
from trend.analyzer.settings import AnalyzerConfig
from trend.status import ErrorCode

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterSummary:
    cluster_id: int
    size: int  # non-noise sentences
    keywords: list[str]
    representatives: list[str]


@dataclass(frozen=True)
class Label:
    name: str
    description: str
    source: str  # openai | cache | tfidf | tfidf_fallback (the LLM failed during the run)


class TfidfLabeller:
    """Built-in: the cluster's top class-TF-IDF terms (unigrams and bigrams) name it.

    Terms that share a word with a term already in the name are skipped ("battery life" then not
    "battery"), and the lead term is one no earlier cluster led with, so label clusters largest first.
    """

    source = "tfidf"
    terms_per_name = 3

    def __init__(self) -> None:
        self.leads: set[str] = set()

    def name(self, keywords: list[str]) -> str:
        words = keywords or ["misc"]
        lead = next((w for w in words if w not in self.leads), words[0])
        self.leads.add(lead)
        chosen = [lead]
        for term in words:
            if len(chosen) == self.terms_per_name:
                break
            if not _stems(term) & {w for c in chosen for w in _stems(c)}:
                chosen.append(term)
        return " / ".join(chosen)[:255]

    def label(self, cluster: ClusterSummary) -> Label:
        words = cluster.keywords or ["misc"]
        example = f' e.g. "{cluster.representatives[0]}"' if cluster.representatives else ""
        description = f"Sentences about {', '.join(words[:6])} ({cluster.size} sentences);{example}"
        return Label(self.name(cluster.keywords), description, self.source)


def _stems(term: str) -> set[str]:
    """A term's words without a plural 's' ("laptops" and "laptop" are one word here)."""
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in term.split()}


def distinct_names(names: list[str]) -> list[str]:
    """The same names, a repeated one (case-insensitive) suffixed " (2)", " (3)", … so no two are equal."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            suffix = f" ({n})"
            candidate = name[: 255 - len(suffix)] + suffix
        seen.add(candidate.lower())
        out.append(candidate)
    return out


SYSTEM_PROMPT = (
    "You name groups of product-review sentences that talk about the same aspect. "
    'Answer with a JSON object only: {"name": "<2-4 word aspect name>", '
    '"description": "<one sentence describing what these reviews discuss>"}.'
)


def _validate(content: str | None) -> tuple[str, str]:
    try:
        data = json.loads(content or "")
    except json.JSONDecodeError as exc:
        raise AnalysisError(ErrorCode.LLM_INVALID_OUTPUT, f"reply is not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise AnalysisError(ErrorCode.LLM_INVALID_OUTPUT, "reply is not a JSON object")
    name, description = data.get("name"), data.get("description")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise AnalysisError(ErrorCode.LLM_INVALID_OUTPUT, "reply lacks a usable 'name'")
    if not isinstance(description, str):
        raise AnalysisError(ErrorCode.LLM_INVALID_OUTPUT, "reply lacks a 'description' string")
    return name.strip(), description.strip()


class LabelCache:
    """ds_analyzer.ai_viewpoint_label_cache, through a mysqlclient connection factory."""

    def __init__(self, connect):
        self.connect = connect

    @staticmethod
    def key(model: str, cluster: ClusterSummary) -> str:
        payload = json.dumps({"model": model, "sentences": sorted(cluster.representatives)})
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> tuple[str, str] | None:
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute("SELECT name, description FROM ai_viewpoint_label_cache WHERE cache_key = %s", (key,))
            row = cur.fetchone()
            return (row[0], row[1] or "") if row else None
        finally:
            conn.close()

    def put(self, key: str, model: str, name: str, description: str, tokens: int) -> None:
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(
                """INSERT INTO ai_viewpoint_label_cache (cache_key, model, name, description, tokens_used)
                   VALUES (%s, %s, %s, %s, %s)
                   ON DUPLICATE KEY UPDATE name = VALUES(name), description = VALUES(description)""",
                (key, model, name, description, tokens),
            )
            conn.commit()
        finally:
            conn.close()


@dataclass
class TokenBudget:
    limit: int
    used: int = 0

    def reserve(self, estimate: int) -> None:
        if self.used + estimate > self.limit:
            raise AnalysisError(
                ErrorCode.LLM_BUDGET_EXHAUSTED,
                f"token budget {self.limit} spent ({self.used} used, next call needs ~{estimate})",
            )

    def spend(self, tokens: int) -> None:
        self.used += tokens


@dataclass
class OpenAILabeller:
    """Chat-completions labeller against ``llm_base_url`` (OpenAI or any compatible server)."""

    config: AnalyzerConfig
    cache: LabelCache | None = None
    budget: TokenBudget = field(init=False)
    calls: int = field(default=0, init=False)
    source = "openai"
    max_tokens = 150

    def __post_init__(self):
        from openai import OpenAI

        self.budget = TokenBudget(self.config.llm_token_budget)
        self.client = OpenAI(
            api_key=self.config.llm_api_key,
            base_url=self.config.llm_base_url,
            timeout=self.config.llm_timeout_seconds,
            max_retries=0,
        )

    def _messages(self, cluster: ClusterSummary) -> list[dict[str, str]]:
        lines = "\n".join(f"- {s}" for s in cluster.representatives)
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Keywords: {', '.join(cluster.keywords)}\nSentences:\n{lines}"},
        ]

    def label(self, cluster: ClusterSummary) -> Label:
        key = LabelCache.key(self.config.llm_model, cluster)
        if self.cache and (hit := self.cache.get(key)):
            return Label(hit[0], hit[1], "cache")
        messages = self._messages(cluster)
        estimate = sum(len(m["content"]) for m in messages) // 4 + self.max_tokens
        self.budget.reserve(estimate)
        response = self._complete(messages)
        tokens = getattr(response.usage, "total_tokens", None) or estimate
        self.budget.spend(int(tokens))
        name, description = _validate(response.choices[0].message.content)
        if self.cache:
            self.cache.put(key, self.config.llm_model, name, description, int(tokens))
        return Label(name, description, self.source)

    def _complete(self, messages: list[dict[str, str]]):
        import openai

        retryable = (
            openai.RateLimitError,
            openai.APITimeoutError,
            openai.APIConnectionError,
            openai.InternalServerError,
        )
        attempt = 0
        while True:
            self.calls += 1
            try:
                return self.client.chat.completions.create(
                    model=self.config.llm_model,
                    messages=cast("list[ChatCompletionMessageParam]", messages),  # role/content dicts
                    temperature=0,
                    max_tokens=self.max_tokens,
                    response_format={"type": "json_object"},
                )
            except retryable as exc:
                if attempt >= self.config.llm_max_retries:
                    raise AnalysisError(
                        ErrorCode.LLM_REQUEST_FAILED, f"{type(exc).__name__} after {attempt + 1} attempts"
                    ) from exc
                delay = self.config.llm_backoff_seconds * 2**attempt
                log.warning("LLM call failed (%s); retry %d in %.2fs", type(exc).__name__, attempt + 1, delay)
                time.sleep(delay)
                attempt += 1
            except openai.APIStatusError as exc:  # 4xx other than 429: not worth retrying
                raise AnalysisError(ErrorCode.LLM_REQUEST_FAILED, f"HTTP {exc.status_code}") from exc


@dataclass
class FallbackLabeller:
    """The LLM first; when it fails (request, output or budget), offline labels for the rest of the run.

    Never silent: the failure is logged once with its code, every cluster labelled offline records
    ``label_source = 'tfidf_fallback'``, and ``failure`` keeps the reason for the run's result.
    """

    primary: OpenAILabeller
    offline: TfidfLabeller = field(default_factory=TfidfLabeller)
    failure: AnalysisError | None = None
    source = "tfidf_fallback"

    def label(self, cluster: ClusterSummary) -> Label:
        if self.failure is None:
            try:
                return self.primary.label(cluster)
            except AnalysisError as exc:
                self.failure = exc
                log.warning(
                    "LLM labelling failed at cluster %d ([%d] %s): the remaining clusters get offline "
                    "TF-IDF labels, recorded as label_source 'tfidf_fallback' (labeller=openai makes this an error)",
                    cluster.cluster_id,
                    int(exc.code),
                    exc.detail,
                )
        offline = self.offline.label(cluster)
        return Label(offline.name, offline.description, self.source)


def make_labeller(config: AnalyzerConfig, cache: LabelCache | None):
    """The labeller ``config.labeller`` asks for; never a silent fallback.

    openai: needs the key (else AnalysisError 2007 LLM_NOT_CONFIGURED) and an LLM failure fails the run;
    tfidf: no LLM; auto: openai when the key is there, falling back to TF-IDF when the LLM fails
    (``FallbackLabeller``: logged, ``label_source = 'tfidf_fallback'``), else TF-IDF with a warning
    in the log, and every viewpoint records ``label_source = 'tfidf'`` (shown with the labels).
    """
    if config.labeller == "tfidf":
        return TfidfLabeller()
    if config.llm_api_key:
        labeller = OpenAILabeller(config, cache)
        return labeller if config.labeller == "openai" else FallbackLabeller(labeller)
    if config.labeller == "openai":
        raise AnalysisError(
            ErrorCode.LLM_NOT_CONFIGURED,
            f"labeller openai needs an API key in ${config.llm_api_key_env} (Airflow connection openai_default)",
        )
    log.warning(
        "no LLM key in $%s (connection openai_default): labelling with TF-IDF keywords; "
        "viewpoints record label_source 'tfidf' (set labeller=openai to make this an error)",
        config.llm_api_key_env,
    )
    return TfidfLabeller()
