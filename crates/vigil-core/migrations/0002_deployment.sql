-- What an environment's platform deployment is called (EKS cluster, Aurora cluster id, bucket...):
-- a JSON object of the metric catalog's parameter names to values. Names, never secrets.
ALTER TABLE environments ADD COLUMN deployment TEXT NOT NULL DEFAULT '{}';
