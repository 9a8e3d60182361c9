-- Products an analysis left out of its dataset, and why (unknown id, no reviews, no sentences).
-- analyzer_batch analyses the rest and fails (1002 EMPTY_DATASET) only when none remain; the UI
-- shows these rows next to the dataset. Replaced on every run of the dataset.
CREATE TABLE IF NOT EXISTS dataset_excluded_products (
  dataset_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL COMMENT 'analyzer_v2.products.id (as in datasets.settings.product_ids)',
  mall_product_id VARCHAR(64) NULL COMMENT 'NULL when the product id is unknown',
  reason VARCHAR(255) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (dataset_id, product_id),
  CONSTRAINT fk_excluded_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
) ENGINE=InnoDB;
