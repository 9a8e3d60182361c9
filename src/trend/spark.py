"""Building a SparkSession that can talk to MySQL through Debian's MariaDB Connector/J.

Sizing is configuration, not code: ``SparkSizing`` reads ``TP_SPARK_DRIVER_MEMORY`` and
``TP_SPARK_SHUFFLE_PARTITIONS`` (the submit operator overlays the ``spark_default``
connection's extras ``driver-memory`` / ``shuffle-partitions`` and puts the result on the
spark-submit command, where the driver's memory has to be set). Unset, they follow the machine:
a third of its memory for the driver (local mode: the executors live in the driver JVM), at least
2g and at most 32g, and two shuffle partitions per core, at least 4.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trend.config import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MARIADB_JAR = os.environ.get("MARIADB_JDBC_JAR", "/usr/share/java/mariadb-java-client.jar")
JDBC_DRIVER = "org.mariadb.jdbc.Driver"

DRIVER_MEMORY_ENV = "TP_SPARK_DRIVER_MEMORY"
SHUFFLE_PARTITIONS_ENV = "TP_SPARK_SHUFFLE_PARTITIONS"


def _machine_memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):  # not POSIX: the old fixed default
        return 6.0


DEFAULT_DRIVER_MEMORY = f"{int(min(32, max(2, _machine_memory_gib() // 3)))}g"
DEFAULT_SHUFFLE_PARTITIONS = max(4, 2 * (os.cpu_count() or 2))
TRY_NUMBER_ENV = "TP_TRY_NUMBER"  # the Airflow attempt; a job may resume what an earlier one left


@dataclass(frozen=True)
class SparkSizing:
    driver_memory: str = DEFAULT_DRIVER_MEMORY
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SparkSizing:
        env = os.environ if env is None else env
        return cls._parse(
            env.get(DRIVER_MEMORY_ENV) or DEFAULT_DRIVER_MEMORY,
            env.get(SHUFFLE_PARTITIONS_ENV) or DEFAULT_SHUFFLE_PARTITIONS,
            source="environment",
        )

    def with_extras(self, extras: Mapping[str, Any]) -> SparkSizing:
        """Overlay a Spark connection's extras ``driver-memory`` / ``shuffle-partitions``."""
        return self._parse(
            extras.get("driver-memory") or self.driver_memory,
            extras.get("shuffle-partitions") or self.shuffle_partitions,
            source="spark connection extras",
        )

    @classmethod
    def _parse(cls, memory: object, partitions: object, source: str) -> SparkSizing:
        try:
            count = int(str(partitions))
        except ValueError:
            raise ConfigError(f"shuffle partitions from the {source} must be an integer, got {partitions!r}") from None
        if count < 1:
            raise ConfigError(f"shuffle partitions from the {source} must be >= 1, got {count}")
        return cls(str(memory), count)


def launched_by_spark_submit() -> bool:
    """True inside a driver that spark-submit started (it hands PySpark its JVM gateway)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(app_name: str, master: str | None = None, shuffle_partitions: int | None = None) -> SparkSession:
    """A session for the jobs, tests and benchmarks.

    Under spark-submit the submit command already carries the sizing (see module doc), so
    only an explicit ``shuffle_partitions`` overrides it; elsewhere the environment sizes it.
    """
    from pyspark.sql import SparkSession

    # Spark runs one task per core: one BLAS thread per task (netlib in the JVM, numpy in the Python
    # workers, which inherit the driver JVM's environment in local mode), not one per core each.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.jars", MARIADB_JAR)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.executorEnv.OPENBLAS_NUM_THREADS", os.environ["OPENBLAS_NUM_THREADS"])
    )
    if not launched_by_spark_submit():
        sizing = SparkSizing.from_env()
        builder = builder.config("spark.driver.memory", sizing.driver_memory)
        shuffle_partitions = shuffle_partitions or sizing.shuffle_partitions
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if not os.environ.get("PYSPARK_PYTHON"):
        # Python workers must run the interpreter that has our packages (the venv's), not `python3`.
        builder = builder.config("spark.pyspark.python", sys.executable)
    if master:
        builder = builder.master(master)
    return builder.getOrCreate()


def jdbc_options(url: str, user: str, password: str) -> dict[str, str]:
    return {"url": url, "user": user, "password": password, "driver": JDBC_DRIVER}
