"""Route cheaply: the offline classifier decides confident sentences; uncertain ones
(or all, with route="all") go to the LLM backend. Counts what share went to the LLM."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from trend.spvp.prompting import InvalidLLMOutput

log = logging.getLogger(__name__)


class LLMMapper(Protocol):
    name: str

    def map(self, texts: Sequence[str]) -> list[set[int]]: ...


@dataclass
class RoutingStats:
    sentences: int = 0
    uncertain: int = 0
    sent_to_llm: int = 0
    llm_fallbacks: int = 0  # invalid LLM answers replaced by the offline decision

    @property
    def llm_share(self) -> float:
        return self.sent_to_llm / self.sentences if self.sentences else 0.0

    @property
    def uncertain_share(self) -> float:
        return self.uncertain / self.sentences if self.sentences else 0.0


class Router:
    def __init__(
        self,
        ordinals: Sequence[int],
        llm: LLMMapper | None = None,
        route: str = "uncertain",
        on_invalid_output: str = "fail",
    ):
        self.ordinals = list(ordinals)
        self.llm = llm
        self.route = route
        self.on_invalid_output = on_invalid_output
        self.stats = RoutingStats()

    def resolve(self, texts: Sequence[str], labels: np.ndarray, uncertain: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Final (N, V) labels and the backend that decided each sentence."""
        labels = np.array(labels, dtype=bool, copy=True)
        backends = ["offline"] * len(texts)
        self.stats.sentences += len(texts)
        self.stats.uncertain += int(np.sum(uncertain))
        if self.llm is None or not len(texts):
            return labels, backends
        chosen = np.arange(len(texts)) if self.route == "all" else np.flatnonzero(uncertain)
        if not chosen.size:
            return labels, backends
        self.stats.sent_to_llm += int(chosen.size)
        try:
            answers = self.llm.map([texts[int(i)] for i in chosen])
        except InvalidLLMOutput as exc:
            if self.on_invalid_output != "offline":
                raise
            log.warning("keeping offline decisions for %d sentences: %s", chosen.size, exc)
            self.stats.llm_fallbacks += int(chosen.size)
            return labels, backends
        column = {o: j for j, o in enumerate(self.ordinals)}
        for i, ordinals in zip(chosen, answers):
            labels[i, :] = False
            for o in ordinals:
                labels[i, column[o]] = True
            backends[i] = self.llm.name
        return labels, backends


def build_llm(config, category) -> LLMMapper | None:
    """The LLM backend named by the config, or None for the offline default."""
    if config.backend == "openai":
        from trend.spvp.openai_backend import OpenAICompatibleMapper

        return OpenAICompatibleMapper(category, config.openai)
    if config.backend == "transformers":
        from trend.spvp.hf_backend import TransformersMapper

        return TransformersMapper(category, config.transformers)
    return None
