-- The audit inspector's queries (Vigil): newest-first keyset pages over (at, stream_id, seq),
-- alone or with one equality filter, and the PHI-category filter. A backward scan of an
-- ascending index serves the descending order; the row comparison
-- (at, stream_id, seq) < (…) is an index condition, so page 10 000 costs what page 1 does.
CREATE INDEX audit_log_keyset ON audit_log (at, stream_id, seq);
CREATE INDEX audit_log_actor_keyset ON audit_log (actor, at, stream_id, seq);
CREATE INDEX audit_log_action_keyset ON audit_log (action, at, stream_id, seq);
CREATE INDEX audit_log_stream_keyset ON audit_log (stream_id, at, seq);
CREATE INDEX audit_log_categories ON audit_log USING gin (category_counts);
-- Superseded by audit_log_keyset.
DROP INDEX audit_log_at;
