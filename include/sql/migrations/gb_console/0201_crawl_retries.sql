-- Automatic retries of crawl items that ended in Error for a reason that may pass (trend.crawl.retry):
-- attempt_count counts failed attempts since the last success or manual retry; next_attempt_at is
-- when crawl_sync may claim the Error item again (NULL: no automatic retry: permanent error,
-- Canceled, or the attempt limit was reached). Defaults keep trend-viewer-api's inserts as they are.
ALTER TABLE summary_wishlist_products
  ADD COLUMN attempt_count SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'failed crawl attempts since the last success',
  ADD COLUMN next_attempt_at DATETIME(3) NULL COMMENT 'automatic retry of an Error item not before; NULL: none',
  ADD KEY ix_retry (crawl_status, next_attempt_at);
ALTER TABLE summary_wishlist_product_reviews
  ADD COLUMN attempt_count SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'failed crawl attempts since the last success',
  ADD COLUMN next_attempt_at DATETIME(3) NULL COMMENT 'automatic retry of an Error item not before; NULL: none',
  ADD KEY ix_retry (crawl_status, next_attempt_at);
ALTER TABLE summary_wishlist_categories
  ADD COLUMN attempt_count SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'failed crawl attempts since the last success',
  ADD COLUMN next_attempt_at DATETIME(3) NULL COMMENT 'automatic retry of an Error item not before; NULL: none',
  ADD KEY ix_retry (crawl_status, next_attempt_at);
ALTER TABLE summary_wishlist_search_queries
  ADD COLUMN attempt_count SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'failed crawl attempts since the last success',
  ADD COLUMN next_attempt_at DATETIME(3) NULL COMMENT 'automatic retry of an Error item not before; NULL: none',
  ADD KEY ix_retry (crawl_status, next_attempt_at);
