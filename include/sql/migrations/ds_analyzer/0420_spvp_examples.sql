-- Training examples of a category's offline SPVP mapper besides the viewpoint file's
-- (specific_viewpoints.examples). One row per (category, sentence, decided viewpoint):
--   source 'llm'  : a sentence the router sent to the LLM backend and the viewpoints it decided;
--                   the next fit of the category's mapper learns from it, so the share sent to
--                   the LLM falls run over run;
--   source 'file' : a labelled sentence loaded with the category (e.g. a training file's
--                   sentences that carry none of the category's viewpoints).
-- viewpoint_ordinal_number 0 (specific_viewpoint_id NULL) = "none of the category's viewpoints":
-- a negative example for every viewpoint. Unique per (category, sentence hash, ordinal), so
-- mapping the same sentences again adds nothing.
CREATE TABLE IF NOT EXISTS spvp_examples (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  viewpoint_category_id BIGINT UNSIGNED NOT NULL,
  viewpoint_ordinal_number INT NOT NULL COMMENT '0: none of the viewpoints',
  specific_viewpoint_id BIGINT UNSIGNED NULL,
  sentence_hash CHAR(64) NOT NULL COMMENT 'sha256 hex of the sentence text',
  sentence_id BIGINT UNSIGNED NULL COMMENT 'analyzer_v2.review_sentences.id (its stored embedding)',
  sentence TEXT NOT NULL,
  source VARCHAR(16) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_example (viewpoint_category_id, sentence_hash, viewpoint_ordinal_number),
  KEY ix_category_source (viewpoint_category_id, source),
  CONSTRAINT fk_spvp_examples_category FOREIGN KEY (viewpoint_category_id) REFERENCES viewpoint_categories (id)
) ENGINE=InnoDB;
