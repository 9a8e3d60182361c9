"""Building a SparkSession that can talk to MySQL through Debian's MariaDB Connector/J."""

from __future__ import annotations

import os
import sys

MARIADB_JAR = os.environ.get("MARIADB_JDBC_JAR", "/usr/share/java/mariadb-java-client.jar")
JDBC_DRIVER = "org.mariadb.jdbc.Driver"


def build_session(app_name: str, master: str | None = None, shuffle_partitions: int = 4):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.jars", MARIADB_JAR)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if not os.environ.get("PYSPARK_PYTHON"):
        # Python workers must run the interpreter that has our packages (the venv's), not `python3`.
        builder = builder.config("spark.pyspark.python", sys.executable)
    if master:
        builder = builder.master(master)
    return builder.getOrCreate()


def jdbc_options(url: str, user: str, password: str) -> dict[str, str]:
    return {"url": url, "user": user, "password": password, "driver": JDBC_DRIVER}
