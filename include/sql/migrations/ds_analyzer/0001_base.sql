-- ds_analyzer: datasets and everything analyzer_batch / spvp_batch derive from them.
-- datasets.status: 1 Pending, 2 Processing, 3 Completed, 9 Failed (trend.status.DatasetStatus)
-- datasets.error_code: trend.status.ErrorCode (table in README); progress 0..100, -1 on failure.

CREATE TABLE IF NOT EXISTS viewpoint_categories (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  description TEXT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_name (name)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS specific_viewpoints (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  viewpoint_category_id BIGINT UNSIGNED NOT NULL,
  ordinal_number INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  description TEXT NULL,
  examples JSON NULL,
  keywords JSON NULL,
  last_object_id BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'analyzer_v2.review_sentences.id processed up to',
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_ordinal (viewpoint_category_id, ordinal_number),
  CONSTRAINT fk_spvp_category FOREIGN KEY (viewpoint_category_id) REFERENCES viewpoint_categories (id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS datasets (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  group_id BIGINT UNSIGNED NOT NULL,
  viewpoint_category_id BIGINT UNSIGNED NULL,
  settings JSON NOT NULL,
  status TINYINT NOT NULL DEFAULT 1,
  progress SMALLINT NOT NULL DEFAULT 0,
  error_code SMALLINT NULL,
  error_message VARCHAR(1000) NULL,
  started_at DATETIME(3) NULL,
  finished_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY ix_status (status),
  KEY ix_group (group_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL COMMENT 'analyzer_v2.products.id',
  mall_id INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  name VARCHAR(512) NOT NULL,
  review_count INT NOT NULL DEFAULT 0,
  sentence_count INT NOT NULL DEFAULT 0,
  average_rating DECIMAL(3, 2) NULL,
  sentiment_score DOUBLE NULL,
  UNIQUE KEY uq_dataset_product (dataset_id, product_id),
  CONSTRAINT fk_products_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS product_details (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  processed_name VARCHAR(512) NOT NULL,
  specifications JSON NULL,
  metadata JSON NULL,
  UNIQUE KEY uq_dataset_product (dataset_id, product_id),
  CONSTRAINT fk_details_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS product_similarities (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  similar_product_id BIGINT UNSIGNED NOT NULL,
  score DOUBLE NOT NULL,
  rank_no SMALLINT NOT NULL,
  method VARCHAR(16) NOT NULL COMMENT 'exact | lsh',
  UNIQUE KEY uq_pair (dataset_id, product_id, similar_product_id),
  CONSTRAINT fk_similarities_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS ai_viewpoints (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  cluster_id INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  description TEXT NULL,
  keywords JSON NULL,
  sentence_count INT NOT NULL DEFAULT 0,
  label_source VARCHAR(32) NOT NULL COMMENT 'openai | tfidf | cache',
  UNIQUE KEY uq_cluster (dataset_id, cluster_id),
  CONSTRAINT fk_aivp_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS review_sentence_aivp (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  sentence_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  ai_viewpoint_id BIGINT UNSIGNED NOT NULL,
  UNIQUE KEY uq_sentence (dataset_id, sentence_id),
  KEY ix_product_viewpoint (dataset_id, product_id, ai_viewpoint_id),
  CONSTRAINT fk_rsaivp_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS reviews (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  review_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  rating TINYINT NULL,
  sentiment_overall VARCHAR(8) NOT NULL COMMENT 'positive | negative | neutral',
  sentiment_score DOUBLE NOT NULL COMMENT '-1 .. 1',
  UNIQUE KEY uq_review (dataset_id, review_id),
  CONSTRAINT fk_ds_reviews_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS review_sentences (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dataset_id BIGINT UNSIGNED NOT NULL,
  sentence_id BIGINT UNSIGNED NOT NULL,
  review_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  cluster_id INT NULL,
  is_noise TINYINT(1) NOT NULL DEFAULT 0,
  ai_viewpoint_id BIGINT UNSIGNED NULL,
  sentiment VARCHAR(8) NULL,
  sentiment_score DOUBLE NULL,
  UNIQUE KEY uq_sentence (dataset_id, sentence_id),
  KEY ix_cluster (dataset_id, cluster_id),
  CONSTRAINT fk_ds_sentences_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- One row per (sentence, category, viewpoint) the sentence talks about; none when it matches no viewpoint.
CREATE TABLE IF NOT EXISTS review_sentence_spvp (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sentence_id BIGINT UNSIGNED NOT NULL,
  viewpoint_category_id BIGINT UNSIGNED NOT NULL,
  viewpoint_ordinal_number INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  score DOUBLE NULL,
  backend VARCHAR(16) NULL COMMENT 'offline | openai | transformers',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_mapping (viewpoint_category_id, sentence_id, viewpoint_ordinal_number),
  KEY ix_product (viewpoint_category_id, mall_product_id)
) ENGINE=InnoDB;
