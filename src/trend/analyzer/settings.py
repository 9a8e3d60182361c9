"""Job configuration: a JSON file/dict plus the environment, never Airflow.

Secrets never live here: the MySQL URL comes from ``MYSQL_URL`` and the LLM key
from the environment variable named by ``llm_api_key_env``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trend.config import ConfigError, MysqlSettings, check_identifier, db_name
from trend.embeddings import DIMENSION, MODEL_NAME


@dataclass(frozen=True)
class AnalyzerConfig:
    # clustering
    k_min: int = 2
    k_max: int = 60  # k0 = round(sqrt(n / 2)) within [k_min, k_max], before merging
    k_sample_size: int = 10000  # rows on the driver for the initial centroids (deterministic hash sample)
    min_cluster_size: int = 5  # smaller clusters dissolve into their nearest neighbours
    kmeans_max_iter: int = 30
    kmeans_tol: float = 1e-4  # Lloyd passes stop when one lowers the within-cluster sum of squares by less
    # all Lloyd passes in one barrier job (tasks reach the driver on an ephemeral TCP port); false: a job per pass
    kmeans_one_job: bool = True
    label_sample_size: int = 2000  # c-TF-IDF keywords from about this many sentences of a larger cluster (0 = all)
    kmeans_restarts: int = 3  # initial centroids: best of n scikit-learn K-means runs on the sample
    merge_threshold: float = 0.75  # centroids with cosine >= this merge (average linkage); 1 = no merging
    match_threshold: float = 0.9  # a new centroid keeps the id of a previous one at cosine >= this
    noise_z: float = 3.5  # robust z-score of the distance to the centroid above which a sentence is noise
    seed: int = 42
    # similarity
    similarity_top_k: int = 5
    similarity_method: str = "auto"  # auto | exact | lsh
    similarity_exact_max_products: int = 5000
    similarity_text_weight: float = 0.2
    lsh_hash_tables: int = 32  # sign-random-projection tables (a pair is a candidate if it shares any)
    lsh_bits_per_table: int = 0  # bits of each table's signature; 0: round(log2(products)) - 5, in [4, 24]
    # sentiment (docs/analyzer.md, "Sentiment")
    sentiment_method: str = "vader"  # vader | model | trained | finetuned | ratings
    sentiment_model_path: str | None = None  # transformers model folder (sentiment_method=model)
    sentiment_training_file: str | None = None  # JSONL {"text", "label"} lines (trained, finetuned)
    sentiment_finetune_epochs: int = 3  # sentiment_method=finetuned: passes over the labelled file
    sentiment_ratings_min_reviews: int = 30  # fewer rated reviews: ratings falls back to vader (recorded)
    sentiment_ratings_max_per_class: int = 5000  # star-labelled sentences per label sampled to the driver
    sentiment_head_c: float = 4.0  # inverse regularisation of the trained head (chosen by 5-fold CV on TRAIN)
    sentiment_threshold: float = 0.05
    # LLM labelling
    labeller: str = "auto"  # openai (a missing key fails: 2007) | tfidf | auto (openai if keyed, else tfidf, logged)
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_token_budget: int = 20000
    llm_max_retries: int = 4
    llm_backoff_seconds: float = 1.0
    llm_timeout_seconds: float = 30.0
    llm_representatives: int = 8
    # input / storage
    embedding_dim: int = DIMENSION
    embedding_model: str = MODEL_NAME
    jdbc_partitions: int = 4
    ds_database: str | None = None  # physical names; default trend.config.db_name(...)
    av_database: str | None = None
    gb_database: str | None = None  # the history moves to status 2 when analysis starts
    claim_stale_minutes: int = 10  # a Processing dataset without a heartbeat this long may be taken over
    heartbeat_seconds: float = 30.0
    force: bool = False  # reprocess a dataset that is already Completed
    fail_point: str | None = None  # tests/drills: "staging:<table>" or "publish:<table>"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> AnalyzerConfig:
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown analyzer config keys: {unknown}")
        config = cls(**values)
        config.validate()
        return config

    @classmethod
    def from_file(cls, path: str | Path) -> AnalyzerConfig:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def replace(self, **changes: Any) -> AnalyzerConfig:
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        if not 1 <= self.k_min <= self.k_max:
            raise ConfigError("need 1 <= k_min <= k_max")
        if not 0 < self.merge_threshold <= 1 or not 0 < self.match_threshold <= 1:
            raise ConfigError("merge_threshold and match_threshold must be within (0, 1]")
        if self.kmeans_max_iter < 1 or self.kmeans_tol < 0 or self.label_sample_size < 0:
            raise ConfigError("need kmeans_max_iter >= 1, kmeans_tol >= 0 and label_sample_size >= 0")
        if self.k_sample_size < self.k_max:
            raise ConfigError("k_sample_size must be at least k_max")
        if self.similarity_method not in ("auto", "exact", "lsh"):
            raise ConfigError("similarity_method must be auto, exact or lsh")
        if not 0 <= self.similarity_text_weight <= 1:
            raise ConfigError("similarity_text_weight must be within [0, 1]")
        self._validate_sentiment()
        if self.labeller not in ("auto", "openai", "tfidf"):
            raise ConfigError("labeller must be auto, openai or tfidf")
        for key in ("ds_database", "av_database", "gb_database"):  # they end up in JDBC URLs and SQL
            if getattr(self, key) is not None:
                check_identifier(getattr(self, key), key)

    def _validate_sentiment(self) -> None:
        methods = ("vader", "model", "trained", "finetuned", "ratings")
        if self.sentiment_method not in methods:
            raise ConfigError(f"sentiment_method must be one of {', '.join(methods)}")
        if (self.sentiment_method == "model") != bool(self.sentiment_model_path):
            raise ConfigError("sentiment_model_path goes with sentiment_method=model, and only with it")
        if (self.sentiment_method in ("trained", "finetuned")) != bool(self.sentiment_training_file):
            raise ConfigError(
                "sentiment_training_file goes with sentiment_method=trained or finetuned, and only with them"
            )
        if not 1 <= self.sentiment_finetune_epochs <= 20:
            raise ConfigError("sentiment_finetune_epochs must be within 1..20")
        if self.sentiment_ratings_min_reviews < 1 or self.sentiment_ratings_max_per_class < 5:
            raise ConfigError("need sentiment_ratings_min_reviews >= 1 and sentiment_ratings_max_per_class >= 5")
        if self.sentiment_head_c <= 0:
            raise ConfigError("sentiment_head_c must be positive")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    # --- environment-derived settings (not serialised) ---
    @property
    def llm_api_key(self) -> str | None:
        return os.environ.get(self.llm_api_key_env) or None

    @property
    def mysql(self) -> MysqlSettings:
        return MysqlSettings.from_env()

    @property
    def ds_db(self) -> str:
        return self.ds_database or db_name("ds_analyzer")

    @property
    def av_db(self) -> str:
        return self.av_database or db_name("analyzer_v2")

    @property
    def gb_db(self) -> str:
        return self.gb_database or db_name("gb_console")
