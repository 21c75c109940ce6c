"""The console's own SQL: operators and their sessions (migration 0006)."""

from __future__ import annotations

_OPERATOR_COLUMNS = """o.id, o.email, o.role, o.partner_id, p.name AS partner_name, o.enterprise_id,
    o.created_at, o.disabled_at, o.locked_until"""

INSERT_OPERATOR = f"""
WITH new AS (
    INSERT INTO operators (email, role, partner_id, enterprise_id, password_hash)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (lower(email)) DO NOTHING
    RETURNING *
)
SELECT {_OPERATOR_COLUMNS} FROM new AS o LEFT JOIN partners AS p ON p.id = o.partner_id
"""

LIST_OPERATORS = f"""
SELECT {_OPERATOR_COLUMNS} FROM operators AS o LEFT JOIN partners AS p ON p.id = o.partner_id
ORDER BY lower(o.email)
"""

PARTNER_ID_BY_NAME = "SELECT id FROM partners WHERE name = $1"
LIVE_ENTERPRISE = "SELECT id FROM enterprises WHERE id = $1 AND deleted_at IS NULL"

# The row a sign-in decides on, locked: concurrent attempts on one account count one after another.
OPERATOR_FOR_SIGN_IN = """
SELECT id, password_hash, failed_sign_ins, disabled_at,
    CASE WHEN locked_until > now() THEN ceil(extract(epoch FROM locked_until - now()))::int END AS locked_for
FROM operators WHERE lower(email) = lower($1)
FOR UPDATE
"""

# $2 failures that lock, $3 seconds locked: the count starts again once the account is locked.
RECORD_FAILED_SIGN_IN = """
UPDATE operators SET
    failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 ELSE failed_sign_ins + 1 END,
    locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN now() + make_interval(secs => $3) ELSE locked_until END
WHERE id = $1
RETURNING failed_sign_ins, locked_until > now() AS locked
"""

RECORD_SIGN_IN = "UPDATE operators SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1"
STORE_REHASH = "UPDATE operators SET password_hash = $2 WHERE id = $1"

NEW_HASH_AND_UNLOCK = """
UPDATE operators SET password_hash = $2, failed_sign_ins = 0, locked_until = NULL
WHERE lower(email) = lower($1) RETURNING id
"""

DISABLE_OPERATOR = """
UPDATE operators SET disabled_at = coalesce(disabled_at, now()) WHERE lower(email) = lower($1) RETURNING id
"""

DELETE_SESSIONS_OF = "DELETE FROM operator_sessions WHERE operator_id = $1"

INSERT_SESSION = """
INSERT INTO operator_sessions (token_hash, operator_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3))
"""

# Expired sessions of the operator go when a new one opens: the table holds live sessions only.
DELETE_EXPIRED_SESSIONS_OF = "DELETE FROM operator_sessions WHERE operator_id = $1 AND expires_at <= now()"

SESSION_OPERATOR = f"""
SELECT {_OPERATOR_COLUMNS}
FROM operator_sessions AS s
JOIN operators AS o ON o.id = s.operator_id
LEFT JOIN partners AS p ON p.id = o.partner_id
WHERE s.token_hash = $1 AND s.expires_at > now() AND o.disabled_at IS NULL
"""

DELETE_SESSION = "DELETE FROM operator_sessions WHERE token_hash = $1"


# -- what the pages read besides the API's services -----------------------------------------------

# Every association of the vehicle $1 (ended ones too), oldest first, with its device and the chip
# the device holds now; $2 the operator's enterprise (NULL: any).
VEHICLE_TIMELINE = """
SELECT a.id, a.device_id, a.is_main_device, a.created_at, a.ended_at,
       d.name AS device_name, d.imei AS device_imei, c.id AS chip_id, c.serial AS chip_serial, c.number AS chip_number
FROM device_associations AS a
JOIN devices AS d ON d.id = a.device_id
LEFT JOIN chips AS c ON c.device_id = a.device_id
WHERE a.vehicle_id = $1 AND ($2::text IS NULL OR a.enterprise_id = $2)
ORDER BY a.created_at, a.id
"""

# Every association of the device $1, oldest first, with its vehicle.
DEVICE_TIMELINE = """
SELECT a.id, a.vehicle_id, a.is_main_device, a.created_at, a.ended_at, v.name AS vehicle_name, v.plate AS vehicle_plate
FROM device_associations AS a
JOIN vehicles AS v ON v.id = a.vehicle_id
WHERE a.device_id = $1 AND ($2::text IS NULL OR a.enterprise_id = $2)
ORDER BY a.created_at, a.id
"""

CHIP_OF_DEVICE = "SELECT id, serial, number, carrier FROM chips WHERE device_id = $1"

PARTNERS = "SELECT id, name FROM partners WHERE $1::uuid IS NULL OR id = $1 ORDER BY name"
PARTNER_BY_ID = "SELECT id, name FROM partners WHERE id = $1"

# Connectors whose name starts with $2 (a LIKE prefix pattern, as written: names are COLLATE "C"), of
# the partner $1 (NULL: any), a few at most: per partner a range of its (partner_id, name) index.
SEARCH_CONNECTORS = """
SELECT c.id, c.name, c.type, c.partner_id, p.name AS partner_name, c.customer_id
FROM partners AS p
CROSS JOIN LATERAL (
    SELECT id, name, type, partner_id, customer_id FROM connectors
    WHERE partner_id = p.id AND name LIKE $2 ORDER BY name LIMIT $3
) AS c
WHERE $1::uuid IS NULL OR p.id = $1
ORDER BY c.name, c.id LIMIT $3
"""
# Customers whose name holds $2 (an ILIKE pattern): a partner has thousands at most.
SEARCH_CUSTOMERS = """
SELECT c.id, c.name, c.partner_id, p.name AS partner_name
FROM customers AS c JOIN partners AS p ON p.id = c.partner_id
WHERE ($1::uuid IS NULL OR c.partner_id = $1) AND c.name ILIKE $2
ORDER BY c.name, c.id LIMIT $3
"""
ALL_CUSTOMERS_OF_PARTNER = "SELECT id, name FROM customers WHERE partner_id = $1 ORDER BY name, id LIMIT $2"
CUSTOMER_NAMES = "SELECT id, name FROM customers WHERE partner_id = $1 AND id = ANY($2::uuid[])"
CUSTOMERS_NAMED = "SELECT id FROM customers WHERE partner_id = $1 AND name = $2 LIMIT 2"

# The active association of the device $2 on the vehicle $1, within the operator's enterprise $3.
ACTIVE_ASSOCIATION_OF_PAIR = """
SELECT id FROM device_associations
WHERE vehicle_id = $1 AND device_id = $2 AND ended_at IS NULL AND ($3::text IS NULL OR enterprise_id = $3)
"""

OPERATOR_EMAILS = "SELECT id::text, email FROM operators WHERE id = ANY($1::uuid[])"
