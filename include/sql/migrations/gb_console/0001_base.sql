-- gb_console: what customers asked us to crawl, and the datasets built from it.
-- crawl_status: 0 New, 1 InProgress, 2 Success, 3 Error, 4 Canceled   (trend.status.CrawlStatus)
-- mall_id: 1 Amazon JP, 2 Rakuten, 3 Yahoo Shopping, 99 synthetic      (trend.status.Mall)

CREATE TABLE IF NOT EXISTS wishlist_to_groups (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  group_id BIGINT UNSIGNED NOT NULL,
  wishlist_name VARCHAR(255) NOT NULL,
  viewpoint_category_id BIGINT UNSIGNED NULL COMMENT 'ds_analyzer.viewpoint_categories.id used for SPVP',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_wishlist_group (wishlist_id, group_id),
  KEY ix_group (group_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS summary_wishlist_products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  crawl_status TINYINT NOT NULL DEFAULT 0,
  crawl_error VARCHAR(1000) NULL,
  crawl_job_id VARCHAR(64) NULL,
  claimed_at DATETIME(3) NULL,
  crawled_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_item (wishlist_id, mall_id, mall_product_id),
  KEY ix_status (crawl_status, id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS summary_wishlist_product_reviews (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  max_reviews INT NOT NULL DEFAULT 1000,
  crawl_status TINYINT NOT NULL DEFAULT 0,
  crawl_error VARCHAR(1000) NULL,
  crawl_job_id VARCHAR(64) NULL,
  claimed_at DATETIME(3) NULL,
  crawled_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_item (wishlist_id, mall_id, mall_product_id),
  KEY ix_status (crawl_status, id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS summary_wishlist_categories (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  category_code VARCHAR(128) NOT NULL,
  max_products INT NOT NULL DEFAULT 20,
  crawl_status TINYINT NOT NULL DEFAULT 0,
  crawl_error VARCHAR(1000) NULL,
  crawl_job_id VARCHAR(64) NULL,
  claimed_at DATETIME(3) NULL,
  crawled_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_item (wishlist_id, mall_id, category_code),
  KEY ix_status (crawl_status, id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS summary_wishlist_search_queries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  keyword VARCHAR(255) NOT NULL,
  max_products INT NOT NULL DEFAULT 20,
  crawl_status TINYINT NOT NULL DEFAULT 0,
  crawl_error VARCHAR(1000) NULL,
  crawl_job_id VARCHAR(64) NULL,
  claimed_at DATETIME(3) NULL,
  crawled_at DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_item (wishlist_id, mall_id, keyword),
  KEY ix_status (crawl_status, id)
) ENGINE=InnoDB;

-- Found products of a category/search item, so the dataset knows which products a wishlist covers.
CREATE TABLE IF NOT EXISTS summary_wishlist_found_products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  source_table VARCHAR(64) NOT NULL,
  source_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  UNIQUE KEY uq_found (source_table, source_id, mall_id, mall_product_id),
  KEY ix_wishlist (wishlist_id)
) ENGINE=InnoDB;

-- status: 1 Pending, 2 Processing, 3 Completed, 9 Failed          (trend.status.HistoryStatus)
-- spvp_status: 1 Waiting, 2 Processing, 3 Completed, 9 Failed     (trend.status.SpvpStatus)
CREATE TABLE IF NOT EXISTS wishlist_dataset_histories (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_id BIGINT UNSIGNED NOT NULL,
  group_id BIGINT UNSIGNED NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  snapshot_key CHAR(64) NOT NULL COMMENT 'hash of the crawl results the dataset was built from',
  status TINYINT NOT NULL DEFAULT 1,
  spvp_status TINYINT NOT NULL DEFAULT 1,
  spvp_error VARCHAR(1000) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_snapshot (wishlist_id, group_id, snapshot_key),
  UNIQUE KEY uq_dataset (dataset_id),
  KEY ix_status (status),
  KEY ix_spvp_status (spvp_status)
) ENGINE=InnoDB;
