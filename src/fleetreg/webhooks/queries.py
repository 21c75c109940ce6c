"""SQL of webhooks and their deliveries (migration 0010)."""

from __future__ import annotations

# A webhook as the API renders it (without its secret), and its version (ETag).
WEBHOOK_JSON = """json_build_object(
    'id', w.id, 'url', w.url, 'types', w.types, 'enabled', w.enabled, 'description', w.description,
    'created_at', api_time(w.created_at))::text AS body, w.xmin::text AS version, w.id"""
# The owner: $1 partner id (NULL for the fleet), $2 enterprise id (the fleet caller's binding, NULL: none).
OWNED = "w.partner_id IS NOT DISTINCT FROM $1::uuid AND w.enterprise_id IS NOT DISTINCT FROM $2::text"

INSERT_WEBHOOK = f"""
INSERT INTO webhooks AS w (partner_id, enterprise_id, url, types, description, enabled, secret, cursor)
VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT coalesce(max(sequence), 0) FROM events))
RETURNING {WEBHOOK_JSON}
"""
LIST_WEBHOOKS = f"SELECT {WEBHOOK_JSON} FROM webhooks AS w WHERE {OWNED} ORDER BY w.created_at, w.id"
GET_WEBHOOK = f"SELECT {WEBHOOK_JSON} FROM webhooks AS w WHERE {OWNED} AND w.id = $3"
LOCK_WEBHOOK = f"SELECT w.xmin::text AS version FROM webhooks AS w WHERE {OWNED} AND w.id = $3 FOR UPDATE"
# $4.. : url, types, enabled, description; a NULL leaves the member as it is ($7 true: clear description).
UPDATE_WEBHOOK = f"""
UPDATE webhooks AS w SET url = coalesce($4, w.url), types = coalesce($5, w.types),
    enabled = coalesce($6, w.enabled),
    failing_since = CASE WHEN $6 THEN NULL ELSE w.failing_since END,
    description = CASE WHEN $8 THEN $7 ELSE w.description END
WHERE {OWNED} AND w.id = $3
RETURNING {WEBHOOK_JSON}
"""
DELETE_WEBHOOK = f"DELETE FROM webhooks AS w WHERE {OWNED} AND w.id = $3"
ROTATE_SECRET = f"""
UPDATE webhooks AS w SET previous_secret = w.secret, previous_secret_expires_at = now() + interval '24 hours',
    secret = $4
WHERE {OWNED} AND w.id = $3
RETURNING {WEBHOOK_JSON}
"""

DELIVERY_JSON = """json_build_object(
    'id', d.id, 'event_id', 'evt_' || lpad(d.event_sequence::text, 26, '0'), 'state', d.state,
    'attempts', d.attempts, 'next_attempt_at', api_time(d.next_attempt_at))::text AS body"""
LIST_DELIVERIES = f"""
SELECT {DELIVERY_JSON} FROM webhook_deliveries AS d
WHERE d.webhook_id = $1 ORDER BY d.created_at DESC, d.event_sequence DESC LIMIT 100
"""
RETRY_DELIVERY = f"""
UPDATE webhook_deliveries AS d SET state = 'pending', next_attempt_at = now(), lease = NULL
WHERE d.webhook_id = $1 AND d.id = $2
RETURNING {DELIVERY_JSON}
"""

# -- the delivery task ------------------------------------------------------------------------------

ANY_WEBHOOK_ENABLED = "SELECT EXISTS (SELECT FROM webhooks WHERE enabled)"

# The events after each locked webhook's cursor that its owner sees, of its types: up to $1 per webhook
# (webhooks busy with another process are skipped). The cursor moves to the last one fanned out, or to
# the horizon when there were fewer (every event up to it was visible to this statement).
FAN_OUT = """
WITH hooks AS (
    SELECT w.id, w.partner_id, w.enterprise_id, w.cursor,
           array(SELECT t FROM unnest(w.types) AS t WHERE t NOT LIKE '%*') AS exact,
           array(SELECT replace(t, '*', '%') FROM unnest(w.types) AS t WHERE t LIKE '%*') AS prefixes
    FROM webhooks AS w
    WHERE w.enabled AND w.cursor < (SELECT coalesce(max(sequence), 0) FROM events)
    ORDER BY w.cursor LIMIT 50
    FOR UPDATE SKIP LOCKED
), horizon AS (
    SELECT coalesce(max(sequence), 0) AS sequence FROM events
), picked AS (
    SELECT h.id AS webhook_id, e.sequence, e.subject_id
    FROM hooks AS h CROSS JOIN LATERAL (
        SELECT e.sequence, e.subject_id FROM events AS e
        WHERE e.sequence > h.cursor
          AND CASE WHEN h.partner_id IS NOT NULL THEN e.partner_id = h.partner_id
                   ELSE e.partner_id IS NULL AND (h.enterprise_id IS NULL OR e.enterprise_id = h.enterprise_id) END
          AND (e.type = ANY(h.exact) OR e.type LIKE ANY(h.prefixes))
        ORDER BY e.sequence LIMIT $1
    ) AS e
), inserted AS (
    INSERT INTO webhook_deliveries (webhook_id, event_sequence, subject_id, next_attempt_at)
    SELECT webhook_id, sequence, subject_id, now() FROM picked ORDER BY webhook_id, sequence
    ON CONFLICT (webhook_id, event_sequence) DO NOTHING
    RETURNING webhook_id
), moved AS (
    UPDATE webhooks AS w SET cursor = CASE WHEN counts.n >= $1 THEN counts.last ELSE (SELECT sequence FROM horizon) END
    FROM (
        SELECT h.id, count(p.sequence) AS n, max(p.sequence) AS last
        FROM hooks AS h LEFT JOIN picked AS p ON p.webhook_id = h.id GROUP BY h.id
    ) AS counts
    WHERE w.id = counts.id
    RETURNING w.id
)
SELECT (SELECT count(*) FROM inserted) AS deliveries, (SELECT count(*) FROM moved) AS webhooks
"""

# Up to $1 due deliveries of enabled webhooks, each the oldest pending one of its webhook and subject,
# leased to $2 for 30 s (an attempt takes 10 s at most): with the URL, the signing secrets and the event's JSON.
CLAIM = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries AS d JOIN webhooks AS w ON w.id = d.webhook_id AND w.enabled
    WHERE d.state = 'pending' AND d.next_attempt_at <= now()
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries AS earlier
          WHERE earlier.webhook_id = d.webhook_id AND earlier.subject_id = d.subject_id
            AND earlier.state = 'pending' AND earlier.event_sequence < d.event_sequence)
    ORDER BY d.next_attempt_at, d.event_sequence
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries AS d SET lease = $2, next_attempt_at = now() + interval '30 seconds'
FROM due, webhooks AS w, events AS e
WHERE d.id = due.id AND w.id = d.webhook_id AND e.sequence = d.event_sequence
RETURNING d.id, d.webhook_id, d.created_at, w.url, w.secret,
    CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret,
    'evt_' || lpad(e.sequence::text, 26, '0') AS event_id, event_json(e)::text AS body
"""
# The attempt's outcome, under the lease it was made with ($1 id, $2 lease, $3 attempt JSON,
# $4 delivered, $5 seconds until the next attempt or NULL: failed for good).
RECORD_ATTEMPT = """
WITH recorded AS (
    UPDATE webhook_deliveries AS d SET attempts = d.attempts || jsonb_build_array($3::jsonb), lease = NULL,
        state = CASE WHEN $4 THEN 'delivered' WHEN $5::float8 IS NULL THEN 'failed' ELSE 'pending' END,
        next_attempt_at = CASE WHEN $4 OR $5::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $5) END
    WHERE d.id = $1 AND d.lease = $2
    RETURNING d.webhook_id
)
UPDATE webhooks AS w SET
    failing_since = CASE WHEN $4 THEN NULL ELSE coalesce(w.failing_since, now()) END,
    enabled = w.enabled AND ($4 OR coalesce(w.failing_since, now()) > now() - interval '3 days')
FROM recorded WHERE w.id = recorded.webhook_id
"""
