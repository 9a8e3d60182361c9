import os
import sys

# Spark's Python workers must use this interpreter (numpy, pandas, pyarrow live here);
# set before the session-wide SparkSession is built.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
