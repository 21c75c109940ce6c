"""Claiming an Idempotency-Key in the round trip that begins the transaction.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

A keyed write took two more round trips than a plain one: the claim (a query whose row said whether
the key is free) and the store of the answer. On this machine a round trip costs 0.13-0.17 ms, so
the key added 0.35-0.45 ms to a connector PUT (issue 16's target: 0.3). ``idempotency_claim`` lets
the claim travel with ``BEGIN`` in one simple-query message, which returns no rows: it answers by
raising. It returns when the key is free and now held by this transaction; it raises
``FLK09`` while another transaction holds the key (409 Request In Progress) and ``FLK00`` when an
answer is stored for the key within the retention (the server then reads it as before: a replay,
or 422 when the key was used for another request). An expired answer not yet deleted is deleted
then, so the answer, stored with the ``COMMIT`` (``fleetreg.writes``), is a plain ``INSERT``.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION idempotency_claim(caller text, key text, retention interval) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    live boolean;  -- NULL: no answer stored for the key
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext(caller), hashtext(key)) THEN
        RAISE EXCEPTION 'a request with this Idempotency-Key is running' USING ERRCODE = 'FLK09';
    END IF;
    SELECT k.created_at > now() - retention INTO live FROM idempotency_keys AS k
    WHERE k.caller = idempotency_claim.caller AND k.key = idempotency_claim.key;
    IF live THEN
        RAISE EXCEPTION 'an answer is stored for this Idempotency-Key' USING ERRCODE = 'FLK00';
    ELSIF NOT live THEN
        -- expired, not yet deleted by the maintenance: this request's answer takes its place
        DELETE FROM idempotency_keys AS k WHERE k.caller = idempotency_claim.caller AND k.key = idempotency_claim.key;
    END IF;
END
$$;
""")


def downgrade() -> None:
    op.execute("DROP FUNCTION idempotency_claim(text, text, interval)")
