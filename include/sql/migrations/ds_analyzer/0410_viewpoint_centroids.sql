-- Viewpoint continuity: each AI viewpoint keeps the unit centroid of its cluster (JSON array of
-- floats, embedding space). The next analysis of the dataset reads them and gives a new cluster the
-- id of the previous one it matches (cosine >= match_threshold), so ids survive reruns.
-- NULL: analysed before this migration (the rerun then numbers clusters afresh).

ALTER TABLE ai_viewpoints
  ADD COLUMN centroid JSON NULL COMMENT 'unit centroid of the cluster (embedding space), for id continuity';

ALTER TABLE stg_ai_viewpoints
  ADD COLUMN centroid LONGTEXT NULL;
