"""SpvpConfig: everything the mapping job can be told, from a JSON file, a dict or defaults.

Secrets are not part of it: the OpenAI key is read from the environment
variable named by ``openai.api_key_env``, the MySQL credentials from MYSQL_URL.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from trend.config import ConfigError
from trend.spvp.hf_backend import TransformersSettings
from trend.spvp.offline import OfflineSettings
from trend.spvp.openai_backend import OpenAISettings

BACKENDS = ("offline", "openai", "transformers")
ROUTES = ("uncertain", "all")
ON_INVALID = ("fail", "offline")


def _build(cls, data: Any, where: str):
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"spvp config {where} must be an object")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"spvp config {where}: unknown keys {sorted(unknown)}")
    return cls(**data)


@dataclass(frozen=True)
class SpvpConfig:
    backend: str = "offline"
    route: str = "uncertain"  # LLM backends: only uncertain sentences, or all
    on_invalid_output: str = "fail"  # after retries: fail the run, or keep the offline decision
    batch_size: int = 500  # sentences per committed batch
    jdbc_partitions: int = 4
    offline: OfflineSettings = field(default_factory=OfflineSettings)
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    transformers: TransformersSettings = field(default_factory=TransformersSettings)
    # LLM-decided sentences become stored examples (spvp_examples, source 'llm') of the category's
    # offline mapper, learnt from on its next fit.
    learn_from_llm: bool = True
    fail_after_batches: int | None = None  # crash injection for tests: raise after N commits

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ConfigError(f"spvp backend {self.backend!r} unknown; expected one of {BACKENDS}")
        if self.route not in ROUTES:
            raise ConfigError(f"spvp route {self.route!r} unknown; expected one of {ROUTES}")
        if self.on_invalid_output not in ON_INVALID:
            raise ConfigError(f"spvp on_invalid_output must be one of {ON_INVALID}")
        if self.batch_size < 1:
            raise ConfigError("spvp batch_size must be positive")

    @classmethod
    def from_dict(cls, data: dict | None) -> SpvpConfig:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"spvp config: unknown keys {sorted(unknown)}")
        nested = {"offline": OfflineSettings, "openai": OpenAISettings, "transformers": TransformersSettings}
        for key, klass in nested.items():
            try:
                data[key] = _build(klass, data.get(key), key)
            except (TypeError, ValueError) as exc:
                if isinstance(exc, ConfigError):
                    raise
                raise ConfigError(f"spvp config {key}: {exc}") from None
        return cls(**data)

    @classmethod
    def from_json(cls, text_or_path: str | None) -> SpvpConfig:
        if not text_or_path:
            return cls()
        text = text_or_path
        if not text_or_path.lstrip().startswith("{"):
            path = Path(text_or_path)
            if not path.is_file():
                raise ConfigError(f"spvp config file {path} does not exist")
            text = path.read_text(encoding="utf-8")
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"spvp config is not valid JSON: {exc.msg}") from None

    def to_json(self) -> str:
        return json.dumps(asdict(self))
