-- Contract version 2: a failed job that was retried names the job that retried it, so Vigil's
-- "retry all" of a class does not send it again. The worker sets it when it takes a retry
-- request that carries `retry_of` (pj_contract::queue::RetryRequest).
ALTER TABLE jobs ADD COLUMN retried_by uuid;
CREATE INDEX jobs_failed_open ON jobs (error_class, finished_at) WHERE status = 'failed' AND retried_by IS NULL;
