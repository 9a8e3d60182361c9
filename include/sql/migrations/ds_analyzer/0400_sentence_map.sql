-- UI plugin: 2-D map coordinates of each sentence (PCA of its embedding, computed by analyzer_batch
-- in trend.analyzer.projection and published atomically with the other results), and indexes
-- that let the dataset report aggregate a 100k-sentence dataset from indexes alone.
-- map_bucket (0..999, from sentence_id) lets the map read a uniform sample through an index
-- instead of scanning every sentence. NULL coordinates: analysed before this migration.

ALTER TABLE review_sentences
  ADD COLUMN map_x FLOAT NULL COMMENT '2-D map x (PCA component 1)',
  ADD COLUMN map_y FLOAT NULL COMMENT '2-D map y (PCA component 2)',
  ADD COLUMN map_bucket SMALLINT UNSIGNED GENERATED ALWAYS AS (sentence_id MOD 1000) STORED,
  ADD KEY ix_map (dataset_id, map_bucket, map_x, map_y, cluster_id, is_noise),
  ADD KEY ix_cluster_sentiment (dataset_id, cluster_id, is_noise, sentiment, sentiment_score),
  ADD KEY ix_product_sentiment (dataset_id, product_id, sentiment, sentiment_score);

ALTER TABLE stg_review_sentences
  ADD COLUMN map_x FLOAT NULL,
  ADD COLUMN map_y FLOAT NULL;

-- The SPVP heatmap and its example sentences read mappings per (category, product) from this index alone.
ALTER TABLE review_sentence_spvp
  ADD KEY ix_product_viewpoint (viewpoint_category_id, mall_product_id, viewpoint_ordinal_number, score, sentence_id);
