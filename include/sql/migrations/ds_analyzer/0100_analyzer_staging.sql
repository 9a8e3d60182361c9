-- analyzer_batch: LLM label cache and staging tables for the atomic publish.
-- The job writes a run's results into stg_* (keyed by run_id) through JDBC, then one MySQL
-- transaction replaces the dataset's rows in the 7 result tables with INSERT ... SELECT from
-- staging, and the staging rows are deleted. No foreign keys here: staging is scratch space.

CREATE TABLE IF NOT EXISTS ai_viewpoint_label_cache (
  cache_key CHAR(64) NOT NULL PRIMARY KEY COMMENT 'sha256 of model + representative sentences',
  model VARCHAR(128) NOT NULL,
  name VARCHAR(255) NOT NULL,
  description TEXT NULL,
  tokens_used INT NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS stg_products (
  run_id CHAR(32) NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  name VARCHAR(512) NOT NULL,
  review_count INT NOT NULL,
  sentence_count INT NOT NULL,
  average_rating DECIMAL(3, 2) NULL,
  sentiment_score DOUBLE NULL,
  KEY ix_run (run_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS stg_product_details (
  run_id CHAR(32) NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  processed_name VARCHAR(512) NOT NULL,
  specifications LONGTEXT NULL,
  metadata LONGTEXT NULL,
  KEY ix_run (run_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS stg_product_similarities (
  run_id CHAR(32) NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  similar_product_id BIGINT UNSIGNED NOT NULL,
  score DOUBLE NOT NULL,
  rank_no SMALLINT NOT NULL,
  method VARCHAR(16) NOT NULL,
  KEY ix_run (run_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS stg_ai_viewpoints (
  run_id CHAR(32) NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  cluster_id INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  description TEXT NULL,
  keywords LONGTEXT NULL,
  sentence_count INT NOT NULL,
  label_source VARCHAR(32) NOT NULL,
  KEY ix_run (run_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS stg_review_sentences (
  run_id CHAR(32) NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  sentence_id BIGINT UNSIGNED NOT NULL,
  review_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  cluster_id INT NULL,
  is_noise TINYINT(1) NOT NULL,
  sentiment VARCHAR(8) NULL,
  sentiment_score DOUBLE NULL,
  KEY ix_run (run_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS stg_reviews (
  run_id CHAR(32) NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  review_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  rating TINYINT NULL,
  sentiment_overall VARCHAR(8) NOT NULL,
  sentiment_score DOUBLE NOT NULL,
  KEY ix_run (run_id)
) ENGINE=InnoDB;
