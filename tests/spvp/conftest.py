import os
import sys

# Spark's Python workers must use this interpreter (numpy, pandas, pyarrow and the editable
# `trend` install live in the venv). Read when the session-wide SparkSession starts.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
