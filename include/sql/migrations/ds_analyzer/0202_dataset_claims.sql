-- Which analyzer_batch run owns a dataset in status 2, and whether it is still alive.
-- claim_token: the run id that claimed the dataset (kept after it finished: the last run);
-- only that run may stage, publish, complete or fail it. heartbeat_at: refreshed by the run
-- while it works; a Processing dataset without a recent heartbeat is stale: another run may
-- take it over, and dataset_status_sync fails it (error_code 3004) so it never stays 2.
ALTER TABLE datasets
  ADD COLUMN claim_token CHAR(32) NULL COMMENT 'analyzer_batch run id owning (or last owning) the dataset' AFTER error_message,
  ADD COLUMN heartbeat_at DATETIME(3) NULL COMMENT 'last sign of life of the owning run' AFTER claim_token,
  ADD KEY ix_heartbeat (status, heartbeat_at);
