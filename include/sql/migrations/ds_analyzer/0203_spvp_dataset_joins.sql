-- SPVP works on datasets' sentences (ds_analyzer.review_sentences WHERE dataset_id = ?), not on the
-- whole analyzer_v2 stream. specific_viewpoints.last_object_id keeps its meaning for progress,
-- resume and manual reset, over the sentences of the datasets that joined the category:
--   every sentence id <= last_object_id of every dataset in spvp_dataset_joins for the category
--   has been processed for that viewpoint (its mappings, if any, are in review_sentence_spvp).
-- A dataset joins when its first SPVP run has processed its own sentences at or below the
-- watermark that no joined dataset holds (trend.spvp.runner); after that its sentences above the
-- watermark are processed with every other joined dataset's, in id order.
CREATE TABLE IF NOT EXISTS spvp_dataset_joins (
  dataset_id BIGINT UNSIGNED NOT NULL,
  viewpoint_category_id BIGINT UNSIGNED NOT NULL,
  joined_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (dataset_id, viewpoint_category_id),
  KEY ix_category (viewpoint_category_id)
) ENGINE=InnoDB;

-- Before this migration a category's viewpoints processed every analyzer_v2 sentence up to
-- last_object_id, so every analysed dataset of a category is covered up to it: it has joined.
INSERT IGNORE INTO spvp_dataset_joins (dataset_id, viewpoint_category_id)
SELECT d.id, d.viewpoint_category_id FROM datasets d
WHERE d.viewpoint_category_id IS NOT NULL AND EXISTS (SELECT 1 FROM review_sentences s WHERE s.dataset_id = d.id);

ALTER TABLE specific_viewpoints
  MODIFY last_object_id BIGINT UNSIGNED NOT NULL DEFAULT 0
    COMMENT 'analyzer_v2.review_sentences.id up to which the sentences of the category''s joined datasets are processed';
