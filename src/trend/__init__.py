"""trend-pipelines: shared logic for the dataset workflow and the catalog graph.

DAG files in ``dags/`` stay thin and call into this package; Spark jobs in
``spark_jobs/`` ship it with ``--py-files``.
"""
