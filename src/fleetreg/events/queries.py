"""SQL of the event feed. Every event is rendered to its JSON by ``event_json`` in the database
(migration 0006), so the feed, the stream and the webhooks send the same bytes."""

from __future__ import annotations

import functools

# Whose events a reader sees (docs/api.md §5): its partner's; every fleet event; one enterprise's.
PARTNER = "e.partner_id = $6"
FLEET = "e.partner_id IS NULL"
ENTERPRISE = "e.enterprise_id = $6"
EVERY_TENANT = "true"  # the command line: whoever runs it runs the database
TENANTS = (PARTNER, FLEET, ENTERPRISE, EVERY_TENANT)


@functools.cache
def page(tenant: str) -> str:
    """Up to $2 events after the sequence $1 that the reader ($6) sees, of the types $3 or type
    prefixes $4 (both NULL: any), of the subject $5 (NULL: any); one row at least, which carries
    ``pruned`` (a cursor below it is expired) and ``horizon`` (the highest sequence committed: every
    event at or below it is visible to this statement, migration 0006 says why). A subject's events
    are found by the hash of its id (``events_subject_idx``, migration 0020)."""
    assert tenant in TENANTS
    return f"""
WITH page AS (
    SELECT e.sequence, event_json(e)::text AS body FROM events AS e
    WHERE e.sequence > $1 AND {tenant}
      AND ($3::text[] IS NULL OR e.type = ANY($3::text[]) OR e.type LIKE ANY($4::text[]))
      AND ($5::text IS NULL OR (hashtext(e.subject_id) = hashtext($5::text) AND e.subject_id = $5::text))
    ORDER BY e.sequence
    LIMIT $2
)
SELECT (SELECT through_sequence FROM events_pruned) AS pruned,
       (SELECT max(sequence) FROM events) AS horizon,
       page.sequence, page.body
FROM (SELECT 1) AS one LEFT JOIN page ON true
ORDER BY page.sequence
"""


HORIZON = "SELECT coalesce(max(sequence), 0) FROM events"

# This process waits for events: commits notify it for the next $2 seconds (migration 0017).
FOLLOW = "SELECT events_follow($1, $2)"
