-- analyzer_v2 speaks the dataset-workflow document's names; the Crawler Service's writes work as shown:
--   INSERT INTO products (name, description, price, mall_id)
--   INSERT INTO reviews (product_id, content, rating)
--   INSERT INTO review_sentences (review_id, sentence, embedding)
-- Columns of ours that those writes leave out are nullable or derived:
--   products.mall_product_id     NULL when the crawler sends none (readers fall back to '#<id>')
--   reviews.mall_id/mall_review_id  NULL when not sent (a review without them is never deduplicated)
--   review_sentences.sentence_index NULL when not sent
--   review_sentences.embedding_model defaults to the platform's model (the PLG API embeds with it)
--   review_sentences.embedding_dim  derived from the embedding's length (float32 values)
-- review_sentences.product_id goes: a sentence's product is its review's (reviews.product_id),
-- so readers join through reviews and there is one place for that fact.

ALTER TABLE products MODIFY mall_product_id VARCHAR(64) NULL;

ALTER TABLE reviews RENAME COLUMN body TO content;
ALTER TABLE reviews MODIFY mall_id INT NULL, MODIFY mall_review_id VARCHAR(128) NULL;

ALTER TABLE review_sentences RENAME COLUMN text TO sentence;
ALTER TABLE review_sentences
  MODIFY sentence_index SMALLINT UNSIGNED NULL,
  MODIFY embedding_model VARCHAR(128) NULL DEFAULT 'all-MiniLM-L6-v2',
  DROP INDEX ix_product;
ALTER TABLE review_sentences DROP COLUMN product_id, DROP COLUMN embedding_dim;
ALTER TABLE review_sentences
  ADD COLUMN embedding_dim SMALLINT UNSIGNED AS (LENGTH(embedding) DIV 4) VIRTUAL
    COMMENT 'derived: float32 values in embedding' AFTER embedding_model;
