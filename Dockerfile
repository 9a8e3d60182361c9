# Airflow image for docker-compose: Airflow 3.3.2 + this repo's pinned requirements + Java for spark-submit.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless libopenblas0 libmariadb-java libmariadb-dev pkg-config build-essential \
    chromium chromium-driver \
 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY requirements.txt /opt/trend/requirements.txt
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r /opt/trend/requirements.txt \
 && pip install --no-cache-dir --force-reinstall --no-deps "pyspark==4.3.0"
# The project package (trend; trend_dev holds demo/eval helpers), editable so REPO_ROOT finds include/ and spark_jobs/.
COPY --chown=airflow pyproject.toml /opt/trend/pyproject.toml
COPY --chown=airflow src /opt/trend/src
COPY --chown=airflow include /opt/trend/include
COPY --chown=airflow spark_jobs /opt/trend/spark_jobs
RUN pip install --no-cache-dir --no-deps -e /opt/trend
