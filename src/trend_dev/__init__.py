"""Helpers around the product: demo, evaluation, benchmarks, synthetic data, a local Airflow."""
