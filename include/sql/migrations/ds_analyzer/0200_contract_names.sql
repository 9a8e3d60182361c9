-- ds_analyzer speaks the dataset-workflow document's names.
--   viewpoint_categories.name        -> category_name
--   products.product_id              -> crawler_product_id (analyzer_v2.products.id)
--   product_details.processed_name   -> products.processed_name
--   product_details.product_id       now ds_analyzer.products.id (the detail row of a dataset product)
--   product_similarities.score       -> similarity_score, plus mall_product_id_a / mall_product_id_b
--   review_sentence_aivp             + mall_product_id
-- reviews.product_id, review_sentences.product_id, review_sentence_aivp.product_id and
-- product_similarities.product_id / similar_product_id keep meaning analyzer_v2.products.id.

ALTER TABLE viewpoint_categories RENAME COLUMN name TO category_name;

ALTER TABLE products RENAME COLUMN product_id TO crawler_product_id;
ALTER TABLE products
  MODIFY crawler_product_id BIGINT UNSIGNED NOT NULL COMMENT 'analyzer_v2.products.id',
  ADD COLUMN processed_name VARCHAR(512) NOT NULL DEFAULT '' AFTER name;
UPDATE products p
JOIN product_details d ON d.dataset_id = p.dataset_id AND d.product_id = p.crawler_product_id
SET p.processed_name = d.processed_name;
UPDATE product_details d
JOIN products p ON p.dataset_id = d.dataset_id AND p.crawler_product_id = d.product_id
SET d.product_id = p.id;
ALTER TABLE product_details
  DROP COLUMN processed_name,
  MODIFY product_id BIGINT UNSIGNED NOT NULL COMMENT 'ds_analyzer.products.id';

ALTER TABLE product_similarities RENAME COLUMN score TO similarity_score;
ALTER TABLE product_similarities
  ADD COLUMN mall_product_id_a VARCHAR(64) NULL AFTER similar_product_id,
  ADD COLUMN mall_product_id_b VARCHAR(64) NULL AFTER mall_product_id_a;
UPDATE product_similarities s
JOIN products a ON a.dataset_id = s.dataset_id AND a.crawler_product_id = s.product_id
JOIN products b ON b.dataset_id = s.dataset_id AND b.crawler_product_id = s.similar_product_id
SET s.mall_product_id_a = a.mall_product_id, s.mall_product_id_b = b.mall_product_id;

ALTER TABLE review_sentence_aivp ADD COLUMN mall_product_id VARCHAR(64) NULL AFTER product_id;
UPDATE review_sentence_aivp m
JOIN products p ON p.dataset_id = m.dataset_id AND p.crawler_product_id = m.product_id
SET m.mall_product_id = p.mall_product_id;

-- staging follows (scratch space: only runs in flight have rows)
ALTER TABLE stg_products RENAME COLUMN product_id TO crawler_product_id;
ALTER TABLE stg_products ADD COLUMN processed_name VARCHAR(512) NOT NULL DEFAULT '' AFTER name;
ALTER TABLE stg_product_details DROP COLUMN processed_name;
ALTER TABLE stg_product_similarities RENAME COLUMN score TO similarity_score;
