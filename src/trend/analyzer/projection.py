"""2-D map of the sentence embeddings: PCA to two components with Spark ML.

The dataset report draws every sentence at (map_x, map_y) coloured by its viewpoint. The
projection is part of the analysis (stored in ds_analyzer.review_sentences, published with the
other results), so the page only reads numbers. The two directions of largest variance of the
L2-normalised MiniLM vectors are fitted on a uniform sample of at most ``FIT_SAMPLE`` sentences (the
d × d covariance, d = 384, is the cost; the top two directions are stable long before 100k rows) and
every sentence is projected on them (two dot products per row).
"""

from __future__ import annotations

from pyspark.ml.feature import PCA
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from trend.analyzer import vectors

FIT_SAMPLE = 20_000
SAMPLE_SEED = 17


def project_2d(sentences: DataFrame, features_col: str = "features") -> DataFrame:
    """(sentence_id, features, ...) → (sentence_id, map_x, map_y) as float, rounded to 1e-4.

    Fewer than two sentences have no direction of variance: they sit at the origin.
    """
    n = sentences.count()
    if n < 2:
        zero = F.lit(0.0).cast("float")
        return sentences.select("sentence_id", zero.alias("map_x"), zero.alias("map_y"))
    as_vector = vectors.as_vector(sentences, features_col).alias("_vector")
    fit_on = sentences.select(as_vector)
    if n > FIT_SAMPLE:
        fit_on = fit_on.sample(fraction=FIT_SAMPLE / n, seed=SAMPLE_SEED)
    model = PCA(k=2, inputCol="_vector", outputCol="_map").fit(fit_on)
    xy = vector_to_array(F.col("_map"))
    return model.transform(sentences.select("sentence_id", as_vector)).select(
        "sentence_id",
        F.round(xy[0], 4).cast("float").alias("map_x"),
        F.round(xy[1], 4).cast("float").alias("map_y"),
    )
