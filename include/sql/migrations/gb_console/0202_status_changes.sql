-- Manual status changes of a dataset history (DAG spvp_status_update, the document's "manual
-- status update" for completion detection failures): who/what changed which status, from what
-- to what, and why. The history row shows the current value; this table keeps the trail.
CREATE TABLE IF NOT EXISTS wishlist_dataset_status_changes (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  wishlist_dataset_history_id BIGINT UNSIGNED NOT NULL,
  dataset_id BIGINT UNSIGNED NOT NULL,
  field VARCHAR(32) NOT NULL COMMENT 'spvp_status',
  old_value TINYINT NOT NULL,
  new_value TINYINT NOT NULL,
  reason VARCHAR(1000) NOT NULL,
  changed_by VARCHAR(255) NOT NULL COMMENT 'the Airflow run (and user) that made the change',
  changed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ix_dataset (dataset_id, changed_at)
) ENGINE=InnoDB;
