"""Pure transforms on the shared local SparkSession, with small hand-made data."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml.functions import array_to_vector
from pyspark.sql import functions as F

from trend.analyzer import clustering, extract, keywords, similarity
from trend.analyzer.errors import AnalysisError
from trend.analyzer.labelling import ClusterSummary, TfidfLabeller, distinct_names
from trend.analyzer.lifecycle import parse_product_ids
from trend.analyzer.sentiment import review_sentiment, sentence_sentiment
from trend.analyzer.settings import AnalyzerConfig
from trend.status import ErrorCode

pytestmark = pytest.mark.spark


def _blobs(rng, centers: np.ndarray, per_cluster: int, spread: float):
    rows, truth = [], []
    for label, center in enumerate(centers):
        for _ in range(per_cluster):
            v = center + rng.normal(0, spread, size=center.shape)
            rows.append(v / np.linalg.norm(v))
            truth.append(label)
    return np.asarray(rows), truth


def _features_frame(spark, vectors, texts=None):
    data = [(i, [float(x) for x in v], (texts or [""] * len(vectors))[i]) for i, v in enumerate(vectors)]
    frame = spark.createDataFrame(data, "sentence_id long, vec array<double>, text string")
    return frame.select("sentence_id", "text", array_to_vector("vec").alias("features"))


def test_embedding_blobs_decode_to_unit_float32_blobs_and_bad_ones_are_counted(spark):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 8)).astype("<f4")
    vectors[7] = 0  # a zero vector stays zero instead of dividing by zero
    rows = [(i, bytearray(v.tobytes())) for i, v in enumerate(vectors)]
    frame = spark.createDataFrame(rows, "sentence_id int, embedding binary").repartition(3)
    decoded = {
        r["sentence_id"]: np.frombuffer(r["features"], dtype="<f4").tolist()
        for r in extract.decode_embeddings(frame, 8).collect()
    }
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
    expected = vectors / np.where(norms == 0, 1, norms)
    assert np.allclose(np.array([decoded[i] for i in range(50)]), expected, atol=1e-6)
    assert decoded[7] == [0.0] * 8
    assert extract.check_embeddings(extract.decode_embeddings(frame, 8), 1, AnalyzerConfig()) == 50

    bad = spark.createDataFrame(
        [
            (1, bytearray(vectors[0].tobytes()), "m"),
            (2, bytearray(vectors[1, :5].tobytes()), "m"),  # 5 values
            (3, bytearray(vectors[2].tobytes()), "other"),  # another model's
            (4, None, "m"),
        ],
        "sentence_id int, embedding binary, embedding_model string",
    )
    rows = {r["sentence_id"]: r for r in extract.decode_embeddings(bad, 8, "m").collect()}
    assert [rows[i]["embedding_problem"] for i in (1, 2, 3, 4)] == [
        extract.FINE,
        extract.WRONG_EMBEDDING,
        extract.WRONG_EMBEDDING,
        extract.NO_EMBEDDING,
    ]
    assert np.allclose(np.frombuffer(rows[1]["features"], "<f4"), expected[0], atol=1e-6)
    assert rows[2]["features"] is rows[3]["features"] is rows[4]["features"] is None
    config = AnalyzerConfig(embedding_dim=8, embedding_model="m")
    with pytest.raises(AnalysisError, match="1 of 4 sentences have no embedding") as missing:
        extract.check_embeddings(extract.decode_embeddings(bad, 8, "m"), 1, config)
    assert missing.value.code == ErrorCode.MISSING_EMBEDDINGS
    wrong = bad.where("embedding IS NOT NULL")
    with pytest.raises(AnalysisError, match="2 of 3 sentences are not 8-dim m embeddings") as mismatch:
        extract.check_embeddings(extract.decode_embeddings(wrong, 8, "m"), 1, config)
    assert mismatch.value.code == ErrorCode.EMBEDDING_DIMENSION_MISMATCH


def test_initial_k_grows_with_the_data_within_its_bounds():
    config = AnalyzerConfig(k_min=2, k_max=60, min_cluster_size=5)
    assert clustering.initial_k(3308, config) == 41  # round(sqrt(3308 / 2))
    assert clustering.initial_k(1_000_000, config) == 60  # capped by k_max
    assert clustering.initial_k(20, config) == 3
    assert clustering.initial_k(12, config) == 2  # k_min, at most n / min_cluster_size
    assert clustering.initial_k(6, config) == 1


def test_kmeans_finds_the_planted_clusters_and_flags_outliers(spark):
    rng = np.random.default_rng(0)
    centers = np.eye(16)[:4] * 1.0
    vectors, truth = _blobs(rng, centers, per_cluster=15, spread=0.08)
    outlier = np.ones(16) / 4.0  # equally far from every centroid
    frame = _features_frame(spark, np.vstack([vectors, outlier]))
    config = AnalyzerConfig(k_min=2, k_max=6, min_cluster_size=5, noise_z=3.5)
    clustered, choice = clustering.cluster_sentences(frame, len(truth) + 1, config)
    rows = {r["sentence_id"]: r for r in clustered.collect()}
    assert choice.k0 == 6 and choice.k == 4  # over-clustered, then the split blobs merged back
    for label in range(4):  # each planted cluster lands in exactly one cluster, each in its own
        ids = [i for i, t in enumerate(truth) if t == label]
        assert len({rows[i]["cluster_id"] for i in ids}) == 1
    assert len({rows[i]["cluster_id"] for i in range(len(truth))}) == 4
    assert sorted(choice.centroids) == sorted({r["cluster_id"] for r in rows.values()})
    assert rows[len(truth)]["is_noise"]
    assert sum(r["is_noise"] for r in rows.values()) <= 3


def test_noise_threshold_from_the_histogram_is_the_robust_z_score_within_a_bin(spark):
    rng = np.random.default_rng(11)
    distance = {0: rng.normal(0.6, 0.05, 4000).clip(0, 2), 7: rng.gamma(2.0, 0.04, 900) + 0.3}
    distance[7][:12] = 1.4  # far outliers
    rows = [(i, c, float(d)) for c in distance for i, d in enumerate(distance[c])]
    bins = {c: clustering.distance_bin(d) for c, d in distance.items()}
    frame = spark.createDataFrame(
        [(i, c, d, int(bins[c][i])) for i, c, d in rows],
        "sentence_id long, cluster_id int, distance double, distance_bin int",
    ).repartition(3)
    histograms = clustering.distance_histograms(frame, [0, 7])
    for c, d in distance.items():
        assert histograms[c].tolist() == np.bincount(bins[c], minlength=clustering.NOISE_BINS).tolist()
    first = clustering.noise_bins(histograms, 3.5)
    width = 2 / clustering.NOISE_BINS
    for c, d in distance.items():
        median = np.median(d)
        exact = median + 3.5 * 1.4826 * np.median(np.abs(d - median))
        assert abs(first[c] * width - exact) <= 1.5 * width  # the nearest bin edge
        assert clustering.cluster_counts(histograms, first)[c] == (
            int((bins[c] < first[c]).sum()),
            int((bins[c] >= first[c]).sum()),
        )
    flagged = clustering.flag_noise(frame, first).where("is_noise").select("cluster_id", "sentence_id").collect()
    assert {(r[0], r[1]) for r in flagged if r[0] == 7} >= {(7, i) for i in range(12)}
    assert len(flagged) == sum(n for _, n in clustering.cluster_counts(histograms, first).values())


def test_merging_is_off_at_threshold_one(spark):
    rng = np.random.default_rng(0)
    vectors, _ = _blobs(rng, np.eye(16)[:4], per_cluster=15, spread=0.08)
    _, choice = clustering.cluster_sentences(
        _features_frame(spark, vectors), len(vectors), AnalyzerConfig(k_max=6, merge_threshold=1.0)
    )
    assert choice.k0 == choice.k == 5


def test_same_input_gives_the_same_clusters_whatever_the_partitioning(spark):
    rng = np.random.default_rng(3)
    vectors, _ = _blobs(rng, rng.normal(size=(6, 24)), per_cluster=20, spread=0.5)
    frame = _features_frame(spark, vectors)
    config = AnalyzerConfig(k_max=12, kmeans_restarts=1)
    runs = []
    for shuffled in (frame.coalesce(1), frame.repartition(3, "sentence_id"), frame.orderBy(F.rand(5)).repartition(2)):
        clustered, choice = clustering.cluster_sentences(shuffled, len(vectors), config)
        runs.append(({r["sentence_id"]: r["cluster_id"] for r in clustered.collect()}, choice.k))
    assert runs[0][1] >= 4
    assert runs[0] == runs[1] == runs[2]


def test_cluster_ids_follow_the_previous_centroids():
    rng = np.random.default_rng(1)
    previous = {7: rng.normal(size=8), 3: rng.normal(size=8), 12: rng.normal(size=8)}
    moved = lambda v: v + rng.normal(0, 0.05, size=8)
    # new centres in another order: 12's and 7's survive, 3's is gone, two are new
    centers = np.asarray([rng.normal(size=8), moved(previous[12]), moved(previous[7]), rng.normal(size=8)])
    ids, matched = clustering.match_ids(centers, previous, threshold=0.9)
    assert ids == [13, 12, 7, 14]  # fresh ids above every previous one, largest cluster first
    assert sorted(matched) == [7, 12] and all(v >= 900 for v in matched.values())
    assert clustering.match_ids(centers, {}, 0.9)[0] == [0, 1, 2, 3]


def test_tiny_input_is_one_cluster(spark):
    frame = _features_frame(spark, np.eye(3))
    clustered, choice = clustering.cluster_sentences(frame, 3, AnalyzerConfig())
    assert choice.k == 1
    assert {r["cluster_id"] for r in clustered.collect()} == {0}


def _product_frames(spark, vectors_by_product: dict[int, list[np.ndarray]], names: dict[int, str]):
    rows = [(pid, [float(x) for x in v]) for pid, vs in vectors_by_product.items() for v in vs]
    sentences = spark.createDataFrame(rows, "product_id long, vec array<double>").select(
        "product_id", array_to_vector("vec").alias("features")
    )
    products = spark.createDataFrame(
        [(pid, name, None) for pid, name in names.items()], "product_id long, name string, description string"
    )
    return sentences, products


def test_exact_similarity_ranks_the_nearest_products_first(spark):
    e = np.eye(8)
    reviews = {1: [e[0]], 2: [e[0] * 0.9 + e[1] * 0.1], 3: [e[1]], 4: [e[5]]}
    names = {1: "aurora speaker", 2: "aurora speaker", 3: "bolt watch", 4: "cedar phone"}
    sentences, products = _product_frames(spark, reviews, names)
    vectors = similarity.product_vectors(sentences, products, text_weight=0.2)
    top = similarity.exact_top_k(vectors, k=2).collect()
    best = {(r["product_id"], r["rank_no"]): r for r in top}
    assert best[(1, 1)]["similar_product_id"] == 2
    assert best[(2, 1)]["similar_product_id"] == 1
    assert best[(1, 1)]["score"] > best[(1, 2)]["score"]
    assert all(r["product_id"] != r["similar_product_id"] for r in top)
    assert len(top) == 4 * 2 and {r["method"] for r in top} == {"exact"}
    # cosine of unit vectors: identical products score 1
    assert best[(1, 1)]["score"] == pytest.approx(np.dot(*_unit_pair()), abs=0.05)


def test_driver_exact_path_ranks_as_the_dataframe_path(spark):
    rng = np.random.default_rng(5)
    centers = rng.normal(size=(4, 16))
    reviews = {pid: [centers[pid % 4] + rng.normal(0, 0.4, 16) for _ in range(1 + pid % 3)] for pid in range(1, 41)}
    names = {pid: f"product {pid % 4} model {pid % 7}" for pid in reviews}
    sentences, products = _product_frames(spark, reviews, names)
    frame = similarity.exact_top_k(similarity.product_vectors(sentences, products, text_weight=0.2), k=3)
    expected = {(r["product_id"], r["rank_no"]): (r["similar_product_id"], r["score"]) for r in frame.collect()}
    ids, matrix = similarity.product_matrix(sentences, products, text_weight=0.2)
    assert ids.tolist() == sorted(reviews)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0)
    pairs = similarity.top_k_pairs(ids, matrix, k=3)
    got = {(r.product_id, r.rank_no): (r.similar_product_id, r.score) for r in pairs.itertuples()}
    assert got.keys() == expected.keys() and len(got) == 40 * 3
    assert all(got[key][0] == expected[key][0] for key in got)
    assert all(abs(got[key][1] - expected[key][1]) < 1e-6 for key in got)
    # the job's entry point: the same rows as a DataFrame with the method
    sims = similarity.similarities(sentences, products, 40, AnalyzerConfig(similarity_top_k=3)).collect()
    assert {(r["product_id"], r["rank_no"]): r["similar_product_id"] for r in sims} == {
        key: value[0] for key, value in expected.items()
    }
    assert {r["method"] for r in sims} == {"exact"}


def _unit_pair():
    a = np.r_[np.sqrt(0.8) * np.eye(8)[0], np.sqrt(0.2) * np.ones(1)]
    b = np.r_[
        np.sqrt(0.8) * (np.eye(8)[0] * 0.9 + np.eye(8)[1] * 0.1) / np.linalg.norm([0.9, 0.1]), np.sqrt(0.2) * np.ones(1)
    ]
    return a, b


def test_lsh_recovers_most_exact_neighbours(spark):
    rng = np.random.default_rng(3)
    centers = rng.normal(size=(6, 32))
    reviews, names = {}, {}
    for pid in range(1, 61):
        center = centers[pid % 6]
        reviews[pid] = [center + rng.normal(0, 0.3, 32) for _ in range(3)]
        names[pid] = f"product {pid % 6}"
    sentences, products = _product_frames(spark, reviews, names)
    vectors = similarity.product_vectors(sentences, products, text_weight=0.2).cache()
    exact = similarity.exact_top_k(vectors, 3)
    approx = similarity.lsh_top_k(vectors, 3, AnalyzerConfig(lsh_hash_tables=6, lsh_bits_per_table=3))
    recall = similarity.recall(approx, exact)
    assert 0.7 <= recall <= 1.0
    assert similarity.recall(exact, exact) == 1.0
    assert {r["method"] for r in approx.collect()} == {"lsh"}


def test_class_tfidf_names_each_cluster_by_its_own_words(spark):
    texts = [
        "The battery lasts all day.",
        "Battery life is great.",
        "Battery drains fast.",
        "Shipping was fast.",
        "Delivery arrived late.",
        "Shipping took forever.",
    ]
    frame = spark.createDataFrame(
        [(i, t, 0 if i < 3 else 1, False, float(i)) for i, t in enumerate(texts)],
        "sentence_id long, text string, cluster_id int, is_noise boolean, distance double",
    )
    terms = keywords.class_tfidf(frame)
    assert terms[0][0][0] == "battery"
    assert terms[1][0][0] == "shipping"
    assert keywords.representatives(frame, 2) == {0: [texts[0], texts[1]], 1: [texts[3], texts[4]]}


def test_representatives_merged_from_partitions_are_the_global_nearest_distinct_texts(spark):
    rng = np.random.default_rng(4)
    texts = [f"sentence {i % 40}" for i in range(600)]  # each text 15 times, at different distances
    rows = [(i, t, i % 3, bool(rng.random() < 0.1), float(rng.random())) for i, t in enumerate(texts)]
    frame = spark.createDataFrame(
        rows, "sentence_id long, text string, cluster_id int, is_noise boolean, distance double"
    ).repartition(4)
    expected: dict[int, list[str]] = {}
    for c in range(3):
        best: dict[str, float] = {}
        for _, t, cluster, noise, d in rows:
            if cluster == c and not noise:
                best[t] = min(best.get(t, 2.0), d)
        expected[c] = sorted(best, key=lambda t: (best[t], t))[:5]
    assert keywords.representatives(frame, 5) == expected


def test_keywords_of_a_large_cluster_come_from_a_capped_sample_with_the_same_top_terms(spark):
    rng = np.random.default_rng(8)
    words = {0: ["battery", "charge", "hours"], 1: ["screen", "bright", "pixels"]}
    filler = ["delivery", "box", "colour", "weight", "price", "cable"]
    rows = []
    for i in range(3000):
        cluster = 0 if i < 2400 else 1
        own = rng.choice(words[cluster], p=[0.6, 0.3, 0.1])  # clear ranks: a sample keeps them
        rows.append((i, f"{own} {rng.choice(filler)}.", cluster, False, 0.0))
    frame = spark.createDataFrame(
        rows, "sentence_id long, text string, cluster_id int, is_noise boolean, distance double"
    )

    def top(**cap):
        found = keywords.class_tfidf(frame, top_n=2, **cap)
        ranked = [(c, term, weight) for c in sorted(found) for term, weight in found[c]]
        return [(c, term) for c, term, _ in ranked], [weight for _, _, weight in ranked]

    sizes = {0: 2400, 1: 600}
    (capped, capped_weights), (full, full_weights) = top(sizes=sizes, per_cluster_cap=500), top()
    assert capped == full  # about 500 of 2,400 and of 600 sentences read: the same top terms
    assert capped_weights != full_weights  # from other counts
    sampled = frame.where(F.pmod(F.xxhash64("sentence_id", F.lit(42)), F.lit(1 << 20)) / (1 << 20) < 500 / 2400)
    assert 400 < sampled.where("cluster_id = 0").count() < 600


def test_topic_terms_are_unigrams_and_bigrams_without_stop_words():
    assert keywords.terms("The battery life is really great, and I love the screen!") == [
        "battery",
        "life",
        "screen",
        "battery life",
    ]
    assert keywords.terms("Ok") == keywords.terms(None) == []
    assert keywords.terms("Wi-Fi_signal: the router's range") == ["signal", "router's", "range", "router's range"]


def test_offline_labels_read_like_topics_and_are_distinct(spark):
    texts = ["The battery life is great.", "Battery life lasts all day.", "Great battery life, really."] * 2
    texts += ["The battery charger broke.", "Battery charger stopped working.", "My battery charger is dead."]
    texts += ["Shipping was fast.", "Fast shipping, great seller.", "Shipping took a week."]
    cluster = [0] * 6 + [1] * 3 + [2] * 3
    frame = spark.createDataFrame(
        [(i, t, c, False, 0.0) for i, (t, c) in enumerate(zip(texts, cluster, strict=True))],
        "sentence_id long, text string, cluster_id int, is_noise boolean, distance double",
    )
    terms = {c: [term for term, _ in ranked] for c, ranked in keywords.class_tfidf(frame).items()}
    labeller = TfidfLabeller()
    names = [labeller.label(ClusterSummary(c, cluster.count(c), terms[c], [])).name for c in (0, 1, 2)]
    assert all(not set(n.replace("/", " ").split()) & keywords.STOPWORDS for n in names)
    assert "battery life" in names[0] and "charger" in names[1] and names[2].startswith("shipping")
    assert not any(n.split(" / ")[0] == "battery" for n in names[1:])  # the largest cluster led with it
    assert len(set(names)) == 3


def test_repeated_names_get_a_distinguishing_suffix():
    assert distinct_names(["Battery", "Screen", "battery", "Battery"]) == [
        "Battery",
        "Screen",
        "battery (2)",
        "Battery (3)",
    ]


def test_sentence_and_review_sentiment(spark):
    sentences = spark.createDataFrame(
        [(1, 10, "Excellent sound, I love it!"), (2, 10, "Fast delivery."), (3, 11, "Terrible, it broke.")],
        "sentence_id long, review_id long, text string",
    )
    scored = sentence_sentiment(sentences, None, 0.05)  # the default scorer (VADER)
    by_id = {r["sentence_id"]: r for r in scored.collect()}
    assert by_id[1]["sentiment"] == "positive" and by_id[3]["sentiment"] == "negative"
    # a review's score is the mean of its sentences' scores
    expected_10 = (by_id[1]["sentiment_score"] + by_id[2]["sentiment_score"]) / 2
    reviews = spark.createDataFrame([(10, 1, 5), (11, 1, 1), (12, 1, 3)], "review_id long, product_id long, rating int")
    joined = sentences.join(scored, "sentence_id")
    overall = {r["review_id"]: r for r in review_sentiment(joined, reviews, 0.05).collect()}
    assert overall[10]["sentiment_overall"] == "positive"
    assert overall[10]["sentiment_score"] == pytest.approx(expected_10)
    assert overall[11]["sentiment_overall"] == "negative"
    assert overall[12]["sentiment_overall"] == "neutral" and overall[12]["sentiment_score"] == 0.0
    kept = sentence_sentiment(sentences, None, 0.05, keep=["review_id"])  # carried through: no join needed
    assert kept.columns == ["review_id", "sentence_id", "sentiment", "sentiment_score"]
    assert {r["review_id"]: r for r in review_sentiment(kept, reviews, 0.05).collect()} == overall


@pytest.mark.parametrize(
    "settings",
    [
        '{"product_ids": [1, 2',
        "[1, 2]",
        '{"product_ids": []}',
        '{"product_ids": [1, "x"]}',
        '{"product_ids": [0]}',
        "{}",
        '{"product_ids": [true]}',
    ],
)
def test_malformed_settings_are_rejected(settings):
    with pytest.raises(AnalysisError) as err:
        parse_product_ids(settings, 5)
    assert err.value.code is ErrorCode.MALFORMED_SETTINGS


def test_settings_keep_order_and_drop_duplicates():
    assert parse_product_ids('{"product_ids": [3, 1, 3], "other": 1}', 5) == [3, 1]
