import os
import sys

from trend.config import REPO_ROOT

# Spark's Python workers must use this interpreter (numpy, pandas, pyarrow live here) and
# find the `trend` package (pytest's `pythonpath` only changes this process's sys.path).
# Both are read when the session-wide SparkSession starts, i.e. after collection.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
_plugins = str(REPO_ROOT / "plugins")
if _plugins not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_plugins, os.environ.get("PYTHONPATH")) if p)
