-- gb_console speaks the dataset-workflow document's names (trend-viewer-api writes these tables).
--
-- One wishlist_to_groups row is one wishlist (the document's "main wishlist": name, group_id,
-- subscription_id, status 1 Active / 0 Inactive). Crawl items point at it with
-- wishlist_to_group_id; a product's review items point at their product item
-- (summary_wishlist_product_id, per crawl schedule_id). Histories point at the wishlist too.
--
-- Old layout: items keyed by wishlist_id, shared by every group of that wishlist. Each item is
-- kept for the wishlist's first group and copied (same crawl state) to its other groups, so every
-- group still sees every item. Items whose wishlist_id has no group get an inactive placeholder
-- wishlist (group_id 0, status 0), and so do histories whose (wishlist_id, group_id) row is gone:
-- kept, never crawled. A review item without a product item gets one with the same crawl state.
-- Nothing is deleted.

-- wishlist_to_groups ------------------------------------------------------------------------------
ALTER TABLE wishlist_to_groups RENAME COLUMN wishlist_name TO name;
ALTER TABLE wishlist_to_groups
  ADD COLUMN subscription_id BIGINT UNSIGNED NULL AFTER group_id,
  ADD COLUMN status TINYINT NOT NULL DEFAULT 1 COMMENT '1 Active, 0 Inactive (trend.status.WishlistStatus)' AFTER subscription_id;

INSERT INTO wishlist_to_groups (wishlist_id, group_id, name, status)
SELECT o.wishlist_id, 0, CONCAT('wishlist ', o.wishlist_id, ' (no group)'), 0
FROM (
  SELECT wishlist_id FROM summary_wishlist_products
  UNION SELECT wishlist_id FROM summary_wishlist_product_reviews
  UNION SELECT wishlist_id FROM summary_wishlist_categories
  UNION SELECT wishlist_id FROM summary_wishlist_search_queries
  UNION SELECT wishlist_id FROM summary_wishlist_found_products
) o
LEFT JOIN wishlist_to_groups w ON w.wishlist_id = o.wishlist_id
WHERE w.id IS NULL;

-- a review item whose product has no product item gets one (same crawl state) ---------------------
INSERT INTO summary_wishlist_products (wishlist_id, mall_id, mall_product_id, crawl_status, crawl_error,
                                       crawl_job_id, claimed_at, crawled_at, created_at)
SELECT r.wishlist_id, r.mall_id, r.mall_product_id, r.crawl_status, r.crawl_error,
       r.crawl_job_id, r.claimed_at, r.crawled_at, r.created_at
FROM summary_wishlist_product_reviews r
LEFT JOIN summary_wishlist_products p
  ON p.wishlist_id = r.wishlist_id AND p.mall_id = r.mall_id AND p.mall_product_id = r.mall_product_id
WHERE p.id IS NULL;

-- summary_wishlist_products -----------------------------------------------------------------------
ALTER TABLE summary_wishlist_products
  ADD COLUMN wishlist_to_group_id BIGINT UNSIGNED NULL AFTER id,
  ADD COLUMN input_type TINYINT NOT NULL DEFAULT 1 COMMENT '1 mall product id, 2 product URL (trend.status.InputType)' AFTER mall_product_id,
  DROP INDEX uq_item;
ALTER TABLE summary_wishlist_products RENAME COLUMN mall_product_id TO input;
ALTER TABLE summary_wishlist_products MODIFY input VARCHAR(1024) NOT NULL;
UPDATE summary_wishlist_products i
JOIN (SELECT wishlist_id, MIN(id) AS first_id FROM wishlist_to_groups GROUP BY wishlist_id) g
  ON g.wishlist_id = i.wishlist_id
SET i.wishlist_to_group_id = g.first_id;
INSERT INTO summary_wishlist_products (wishlist_to_group_id, wishlist_id, mall_id, input, input_type, crawl_status,
                                       crawl_error, crawl_job_id, claimed_at, crawled_at, created_at)
SELECT w.id, i.wishlist_id, i.mall_id, i.input, i.input_type, i.crawl_status,
       i.crawl_error, i.crawl_job_id, i.claimed_at, i.crawled_at, i.created_at
FROM summary_wishlist_products i
JOIN wishlist_to_groups w ON w.wishlist_id = i.wishlist_id AND w.id <> i.wishlist_to_group_id;

-- summary_wishlist_product_reviews ----------------------------------------------------------------
ALTER TABLE summary_wishlist_product_reviews
  ADD COLUMN summary_wishlist_product_id BIGINT UNSIGNED NULL AFTER id,
  ADD COLUMN schedule_id BIGINT UNSIGNED NULL COMMENT 'crawl schedule of trend-viewer-api' AFTER summary_wishlist_product_id,
  DROP INDEX uq_item;
UPDATE summary_wishlist_product_reviews r
JOIN (SELECT wishlist_id, MIN(id) AS first_id FROM wishlist_to_groups GROUP BY wishlist_id) g
  ON g.wishlist_id = r.wishlist_id
JOIN summary_wishlist_products p
  ON p.wishlist_to_group_id = g.first_id AND p.mall_id = r.mall_id AND p.input = r.mall_product_id
SET r.summary_wishlist_product_id = p.id;
INSERT INTO summary_wishlist_product_reviews (summary_wishlist_product_id, wishlist_id, mall_id, mall_product_id,
                                              max_reviews, crawl_status, crawl_error, crawl_job_id, claimed_at,
                                              crawled_at, created_at)
SELECT p.id, r.wishlist_id, r.mall_id, r.mall_product_id, r.max_reviews, r.crawl_status, r.crawl_error,
       r.crawl_job_id, r.claimed_at, r.crawled_at, r.created_at
FROM summary_wishlist_product_reviews r
JOIN summary_wishlist_products first_item ON first_item.id = r.summary_wishlist_product_id
JOIN summary_wishlist_products p
  ON p.wishlist_id = r.wishlist_id AND p.mall_id = r.mall_id AND p.input = r.mall_product_id
 AND p.wishlist_to_group_id <> first_item.wishlist_to_group_id;

-- summary_wishlist_categories / summary_wishlist_search_queries ----------------------------------
ALTER TABLE summary_wishlist_categories
  ADD COLUMN wishlist_to_group_id BIGINT UNSIGNED NULL AFTER id,
  DROP INDEX uq_item;
ALTER TABLE summary_wishlist_categories RENAME COLUMN category_code TO category_id;
UPDATE summary_wishlist_categories i
JOIN (SELECT wishlist_id, MIN(id) AS first_id FROM wishlist_to_groups GROUP BY wishlist_id) g
  ON g.wishlist_id = i.wishlist_id
SET i.wishlist_to_group_id = g.first_id;
INSERT INTO summary_wishlist_categories (wishlist_to_group_id, wishlist_id, mall_id, category_id, max_products,
                                         crawl_status, crawl_error, crawl_job_id, claimed_at, crawled_at, created_at)
SELECT w.id, i.wishlist_id, i.mall_id, i.category_id, i.max_products,
       i.crawl_status, i.crawl_error, i.crawl_job_id, i.claimed_at, i.crawled_at, i.created_at
FROM summary_wishlist_categories i
JOIN wishlist_to_groups w ON w.wishlist_id = i.wishlist_id AND w.id <> i.wishlist_to_group_id;

ALTER TABLE summary_wishlist_search_queries
  ADD COLUMN wishlist_to_group_id BIGINT UNSIGNED NULL AFTER id,
  DROP INDEX uq_item;
UPDATE summary_wishlist_search_queries i
JOIN (SELECT wishlist_id, MIN(id) AS first_id FROM wishlist_to_groups GROUP BY wishlist_id) g
  ON g.wishlist_id = i.wishlist_id
SET i.wishlist_to_group_id = g.first_id;
INSERT INTO summary_wishlist_search_queries (wishlist_to_group_id, wishlist_id, mall_id, keyword, max_products,
                                             crawl_status, crawl_error, crawl_job_id, claimed_at, crawled_at,
                                             created_at)
SELECT w.id, i.wishlist_id, i.mall_id, i.keyword, i.max_products,
       i.crawl_status, i.crawl_error, i.crawl_job_id, i.claimed_at, i.crawled_at, i.created_at
FROM summary_wishlist_search_queries i
JOIN wishlist_to_groups w ON w.wishlist_id = i.wishlist_id AND w.id <> i.wishlist_to_group_id;

-- summary_wishlist_found_products: every successful item's products, keyed by the item ------------
ALTER TABLE summary_wishlist_found_products
  ADD COLUMN wishlist_to_group_id BIGINT UNSIGNED NULL AFTER id,
  DROP INDEX ix_wishlist;
UPDATE summary_wishlist_found_products f
JOIN summary_wishlist_categories i ON f.source_table = 'summary_wishlist_categories' AND i.id = f.source_id
SET f.wishlist_to_group_id = i.wishlist_to_group_id;
UPDATE summary_wishlist_found_products f
JOIN summary_wishlist_search_queries i ON f.source_table = 'summary_wishlist_search_queries' AND i.id = f.source_id
SET f.wishlist_to_group_id = i.wishlist_to_group_id;
INSERT INTO summary_wishlist_found_products (wishlist_to_group_id, wishlist_id, source_table, source_id, mall_id,
                                             mall_product_id)
SELECT c.wishlist_to_group_id, c.wishlist_id, f.source_table, c.id, f.mall_id, f.mall_product_id
FROM summary_wishlist_found_products f
JOIN summary_wishlist_categories o ON f.source_table = 'summary_wishlist_categories' AND o.id = f.source_id
JOIN summary_wishlist_categories c
  ON c.wishlist_id = o.wishlist_id AND c.mall_id = o.mall_id AND c.category_id = o.category_id AND c.id <> o.id;
INSERT INTO summary_wishlist_found_products (wishlist_to_group_id, wishlist_id, source_table, source_id, mall_id,
                                             mall_product_id)
SELECT c.wishlist_to_group_id, c.wishlist_id, f.source_table, c.id, f.mall_id, f.mall_product_id
FROM summary_wishlist_found_products f
JOIN summary_wishlist_search_queries o ON f.source_table = 'summary_wishlist_search_queries' AND o.id = f.source_id
JOIN summary_wishlist_search_queries c
  ON c.wishlist_id = o.wishlist_id AND c.mall_id = o.mall_id AND c.keyword = o.keyword AND c.id <> o.id;
-- product items (mall product id input) found their own product; review items their product's
INSERT IGNORE INTO summary_wishlist_found_products (wishlist_to_group_id, wishlist_id, source_table, source_id,
                                                    mall_id, mall_product_id)
SELECT i.wishlist_to_group_id, i.wishlist_id, 'summary_wishlist_products', i.id, i.mall_id, i.input
FROM summary_wishlist_products i WHERE i.crawl_status = 2;
INSERT IGNORE INTO summary_wishlist_found_products (wishlist_to_group_id, wishlist_id, source_table, source_id,
                                                    mall_id, mall_product_id)
SELECT p.wishlist_to_group_id, r.wishlist_id, 'summary_wishlist_product_reviews', r.id, r.mall_id, r.mall_product_id
FROM summary_wishlist_product_reviews r
JOIN summary_wishlist_products p ON p.id = r.summary_wishlist_product_id
WHERE r.crawl_status = 2;

-- wishlist_dataset_histories ----------------------------------------------------------------------
INSERT INTO wishlist_to_groups (wishlist_id, group_id, name, status)
SELECT DISTINCT h.wishlist_id, h.group_id, CONCAT('wishlist ', h.wishlist_id, ' (group no longer linked)'), 0
FROM wishlist_dataset_histories h
LEFT JOIN wishlist_to_groups w ON w.wishlist_id = h.wishlist_id AND w.group_id = h.group_id
WHERE w.id IS NULL;

ALTER TABLE wishlist_dataset_histories
  ADD COLUMN wishlist_to_group_id BIGINT UNSIGNED NULL AFTER id,
  ADD COLUMN config JSON NULL COMMENT 'what the dataset was built from: snapshot_key, product_count' AFTER dataset_id;
UPDATE wishlist_dataset_histories h
JOIN wishlist_to_groups w ON w.wishlist_id = h.wishlist_id AND w.group_id = h.group_id
SET h.wishlist_to_group_id = w.id, h.config = JSON_OBJECT('snapshot_key', h.snapshot_key);
ALTER TABLE wishlist_dataset_histories DROP INDEX uq_snapshot;
ALTER TABLE wishlist_dataset_histories DROP COLUMN snapshot_key, DROP COLUMN group_id, DROP COLUMN wishlist_id;
ALTER TABLE wishlist_dataset_histories
  MODIFY wishlist_to_group_id BIGINT UNSIGNED NOT NULL,
  ADD COLUMN snapshot_key CHAR(64) AS (JSON_UNQUOTE(JSON_EXTRACT(config, '$.snapshot_key'))) STORED
    COMMENT 'from config: hash of the crawl results the dataset was built from' AFTER config,
  ADD UNIQUE KEY uq_snapshot (wishlist_to_group_id, snapshot_key),
  ADD KEY ix_wishlist (wishlist_to_group_id);

-- the old keys go: one wishlist_to_groups row is one wishlist -------------------------------------
ALTER TABLE summary_wishlist_found_products
  DROP COLUMN wishlist_id,
  MODIFY wishlist_to_group_id BIGINT UNSIGNED NOT NULL,
  ADD KEY ix_wishlist (wishlist_to_group_id);
ALTER TABLE summary_wishlist_product_reviews
  DROP COLUMN wishlist_id, DROP COLUMN mall_id, DROP COLUMN mall_product_id,
  MODIFY summary_wishlist_product_id BIGINT UNSIGNED NOT NULL,
  ADD KEY ix_product_item (summary_wishlist_product_id);
ALTER TABLE summary_wishlist_products
  DROP COLUMN wishlist_id,
  MODIFY wishlist_to_group_id BIGINT UNSIGNED NOT NULL,
  ADD KEY ix_wishlist (wishlist_to_group_id);
ALTER TABLE summary_wishlist_categories
  DROP COLUMN wishlist_id,
  MODIFY wishlist_to_group_id BIGINT UNSIGNED NOT NULL,
  ADD KEY ix_wishlist (wishlist_to_group_id);
ALTER TABLE summary_wishlist_search_queries
  DROP COLUMN wishlist_id,
  MODIFY wishlist_to_group_id BIGINT UNSIGNED NOT NULL,
  ADD KEY ix_wishlist (wishlist_to_group_id);
ALTER TABLE wishlist_to_groups DROP INDEX uq_wishlist_group;
ALTER TABLE wishlist_to_groups DROP COLUMN wishlist_id, ADD KEY ix_status (status);
