# A real local Airflow (api-server, scheduler, dag-processor, triggerer; LocalExecutor):
#   make airflow [AIRFLOW_PORT=8080] [AIRFLOW_METADATA=auto|postgres|sqlite] [AIRFLOW_SETTINGS=file.yaml] [AIRFLOW_ALL_ADMINS=1]
#   make airflow-stop
# State (AIRFLOW_HOME, pid files, logs) under var/airflow. See README "Airflow".
AIRFLOW_PORT ?= 8080
AIRFLOW_METADATA ?= auto

.PHONY: airflow airflow-stop

airflow: setup ## start a local Airflow UI + scheduler on this machine (no Docker); prints URL and login
	$(PY) -m trend_dev.airflow_stack start --port $(AIRFLOW_PORT) --metadata $(AIRFLOW_METADATA) \
		$(if $(AIRFLOW_SETTINGS),--settings $(AIRFLOW_SETTINGS)) $(if $(AIRFLOW_ALL_ADMINS),--all-admins)

airflow-stop: ## stop every process `make airflow` started
	$(PY) -m trend_dev.airflow_stack stop
