-- Where the environment's platform database is (JSON of vigil_dto::PlatformDb), or NULL.
-- Never a password: those are in the OS keychain.
ALTER TABLE environments ADD COLUMN platform_db TEXT;
