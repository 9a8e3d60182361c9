# Airflow image for docker-compose: Airflow 3.3.2 + this repo's pinned requirements + Java for spark-submit.
FROM apache/airflow:3.3.2-python3.11
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless libmariadb-java libmariadb-dev pkg-config build-essential \
 && rm -rf /var/lib/apt/lists/*
USER airflow
COPY requirements.txt /opt/trend/requirements.txt
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -r /opt/trend/requirements.txt \
 && pip install --no-cache-dir --force-reinstall --no-deps "pyspark==4.3.0"
