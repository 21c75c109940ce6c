"""SQL of the auth package."""

PARTNER_ID_BY_NAME = "SELECT id FROM partners WHERE name = $1"

# Creates the partner when missing; returns its id either way.
ENSURE_PARTNER = """
WITH inserted AS (
    INSERT INTO partners (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id
)
SELECT id FROM inserted UNION ALL SELECT id FROM partners WHERE name = $1
LIMIT 1
"""

ENTERPRISE_EXISTS = "SELECT EXISTS (SELECT 1 FROM enterprises WHERE id = $1 AND deleted_at IS NULL)"

INSERT_CLIENT = """
INSERT INTO oauth_clients (id, partner_id, enterprise_id, secret_hash, scope)
VALUES ($1, $2, $3, $4, $5)
RETURNING created_at
"""

# The client as the token endpoint needs it: NULL when unknown or revoked.
ACTIVE_CLIENT = """
SELECT id, partner_id, enterprise_id, secret_hash, scope
FROM oauth_clients WHERE id = $1 AND revoked_at IS NULL
"""

CLIENTS_WITH_PARTNER = """
SELECT c.id, p.name AS partner, c.partner_id, c.enterprise_id, c.scope, c.created_at, c.revoked_at
FROM oauth_clients AS c LEFT JOIN partners AS p ON p.id = c.partner_id
ORDER BY c.created_at, c.id
"""

REVOKE_CLIENT = """
UPDATE oauth_clients SET revoked_at = now()
WHERE id = $1 AND revoked_at IS NULL
RETURNING id
"""
CLIENT_EXISTS = "SELECT EXISTS (SELECT 1 FROM oauth_clients WHERE id = $1)"
CLIENT_IS_ACTIVE = "SELECT EXISTS (SELECT 1 FROM oauth_clients WHERE id = $1 AND revoked_at IS NULL)"
NOTIFY_REVOKED = "SELECT pg_notify($1, $2)"

# What the revocation listener of every worker loads at start and after a restore.
REVOKED_CLIENT_IDS = "SELECT id FROM oauth_clients WHERE revoked_at IS NOT NULL"

# Sessions of serving workers: each keeps one revocation listener open, named so.
SERVING_LISTENERS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()
"""

PARTNERS_WITH_CLIENTS = """
SELECT p.id, p.name, p.created_at,
       count(c.id) FILTER (WHERE c.revoked_at IS NULL) AS active_clients
FROM partners AS p LEFT JOIN oauth_clients AS c ON c.partner_id = p.id
GROUP BY p.id
ORDER BY p.name
"""

# Rehash on login when the stored hash used older parameters.
UPDATE_SECRET_HASH = "UPDATE oauth_clients SET secret_hash = $2 WHERE id = $1"  # noqa: S105 (SQL, not a secret)

# One token of a client's bucket ($1 client, $2 rate per second, $3 burst), refilled by the time since
# its last request by the database's clock; (allowed, tokens left). The row lock of the upsert makes
# concurrent requests of one client, on any instance, take tokens one after the other.
_REFILLED = (
    "least($3::float8, bucket.tokens + extract(epoch FROM excluded.updated_at - bucket.updated_at)::float8 * $2)"
)
TAKE_RATE_TOKEN = f"""
INSERT INTO rate_limit_buckets AS bucket (client_id, tokens, allowed, updated_at)
VALUES ($1, $3::float8 - 1, true, clock_timestamp())
ON CONFLICT (client_id) DO UPDATE SET
    tokens = CASE WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE {_REFILLED} END,
    allowed = {_REFILLED} >= 1,
    updated_at = excluded.updated_at
RETURNING tokens, allowed
"""
