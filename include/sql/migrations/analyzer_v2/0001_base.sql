-- analyzer_v2: what the Crawler Service fetched. Sentences carry their embedding.

CREATE TABLE IF NOT EXISTS products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  mall_id INT NOT NULL,
  mall_product_id VARCHAR(64) NOT NULL,
  name VARCHAR(512) NOT NULL,
  description TEXT NULL,
  category_code VARCHAR(128) NULL,
  brand VARCHAR(255) NULL,
  price DECIMAL(12, 2) NULL,
  rating DECIMAL(3, 2) NULL,
  specifications JSON NULL,
  url VARCHAR(1024) NULL,
  crawled_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_mall_product (mall_id, mall_product_id),
  KEY ix_category (mall_id, category_code)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS reviews (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id BIGINT UNSIGNED NOT NULL,
  mall_id INT NOT NULL,
  mall_review_id VARCHAR(128) NOT NULL,
  title VARCHAR(512) NULL,
  body TEXT NOT NULL,
  rating TINYINT NULL,
  lang VARCHAR(8) NULL,
  posted_at DATETIME NULL,
  crawled_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_mall_review (mall_id, mall_review_id),
  KEY ix_product (product_id),
  CONSTRAINT fk_reviews_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- embedding: little-endian float32 vector, embedding_dim values, from embedding_model.
CREATE TABLE IF NOT EXISTS review_sentences (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  review_id BIGINT UNSIGNED NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  sentence_index SMALLINT UNSIGNED NOT NULL,
  text TEXT NOT NULL,
  embedding VARBINARY(6144) NULL,
  embedding_model VARCHAR(128) NULL,
  embedding_dim SMALLINT UNSIGNED NULL,
  UNIQUE KEY uq_review_sentence (review_id, sentence_index),
  KEY ix_product (product_id, id),
  CONSTRAINT fk_sentences_review FOREIGN KEY (review_id) REFERENCES reviews (id) ON DELETE CASCADE
) ENGINE=InnoDB;
