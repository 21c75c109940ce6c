"""Webhooks (docs/api.md §5): their endpoints, signed deliveries (verified with the `standardwebhooks`
package), retries, rotation, the deliveries log, URL rules, several instances."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.support.app import App, MakeApp, MakeClient
from tests.support.auth import MakeApiClient
from tests.support.partner import Partner
from tests.support.problems import assert_problem
from tests.support.receiver import Receiver, receiving
from tests.support.waiting import wait_until

WEBHOOKS = "/v2/webhooks"


@pytest.fixture
async def app(make_app: MakeApp) -> App:
    """The default app, with webhooks to 127.0.0.1 allowed (the receiver is local)."""
    return await make_app(webhook_allow_private=True)


async def create_webhook(partner: Partner, url: str, types: list[str] | None = None, **members: Any) -> dict[str, Any]:
    response = await partner.post(WEBHOOKS, json={"url": url, "types": types or ["customer.*"], **members})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def delivered(receiver: Receiver, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    await wait_until(lambda: len(receiver.delivered()) >= count, f"{count} deliveries", timeout=timeout)
    return [json.loads(request.body) for request in receiver.delivered()]


class TestEndpoints:
    async def test_create_list_get_patch_delete(self, acme: Partner) -> None:
        created = await create_webhook(acme, "https://example.com/hook", ["connector.*", "customer.created"])
        assert created["secret"].startswith("whsec_")
        assert created["enabled"] is True
        assert created["description"] is None
        webhook = {key: value for key, value in created.items() if key != "secret"}
        assert (await acme.get(WEBHOOKS)).json() == {"data": [webhook]}
        one = await acme.get(f"{WEBHOOKS}/{created['id']}")
        assert one.json() == webhook
        assert one.headers["etag"]
        patched = await acme.request(
            "PATCH", f"{WEBHOOKS}/{created['id']}", json={"enabled": False, "description": "x"}
        )
        assert patched.status_code == 200
        assert (patched.json()["enabled"], patched.json()["description"]) == (False, "x")
        assert (await acme.delete(f"{WEBHOOKS}/{created['id']}")).status_code == 204
        assert_problem(await acme.get(f"{WEBHOOKS}/{created['id']}"), 404, "Webhook Not Found")

    async def test_another_partners_webhook_is_404(self, acme: Partner, globex: Partner) -> None:
        created = await create_webhook(acme, "https://example.com/hook")
        assert_problem(await globex.get(f"{WEBHOOKS}/{created['id']}"), 404, "Webhook Not Found")
        assert (await globex.get(WEBHOOKS)).json() == {"data": []}

    async def test_a_token_is_always_needed_and_the_scope(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient
    ) -> None:
        assert_problem(await client.get(WEBHOOKS), 401, "Unauthorized")
        reader = await make_api_client(partner="acme", scope="events:read")
        assert_problem(await client.get(WEBHOOKS, headers=reader.headers), 403, "Forbidden")
        fleet = await make_api_client(partner=None, scope="fleet:write")
        assert (await client.get(WEBHOOKS, headers=fleet.headers)).status_code == 200

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://example.com/x",
            "not a url",
            "http://169.254.169.254/latest",
            "http://[fe80::1]/x",
            "http://224.0.0.1/",
        ],
    )
    async def test_urls_never_allowed(self, acme: Partner, url: str) -> None:
        response = await acme.post(WEBHOOKS, json={"url": url, "types": ["customer.*"]})
        assert_problem(response, 400, "Webhook URL Not Allowed")

    @pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://10.1.2.3/x", "http://localhost/x", "http://[::1]/"])
    async def test_private_urls_need_the_setting(
        self, make_app: MakeApp, make_client: MakeClient, make_api_client: Any, url: str
    ) -> None:
        strict = await make_client(await make_app(webhook_allow_private=False))
        api = await make_api_client(partner="acme")
        response = await strict.post(WEBHOOKS, json={"url": url, "types": ["customer.*"]}, headers=api.headers)
        assert_problem(response, 400, "Webhook URL Not Allowed")

    async def test_bad_types_are_400(self, acme: Partner) -> None:
        response = await acme.post(WEBHOOKS, json={"url": "https://example.com/", "types": ["customer.exploded"]})
        assert_problem(response, 400, "Bad Request")
        response = await acme.post(WEBHOOKS, json={"url": "https://example.com/", "types": []})
        assert_problem(response, 400, "Bad Request")


class TestDelivery:
    async def test_an_event_is_delivered_signed(self, acme: Partner) -> None:
        async with receiving() as receiver:
            webhook = await create_webhook(acme, receiver.url)
            customer = await acme.customer("Signed")
            [event] = await delivered(receiver, 1)
            request = receiver.delivered()[0]
            verified = Verifier(webhook["secret"]).verify(request.body, request.headers)
            assert verified == event
            assert event["type"] == "customer.created"
            assert event["data"]["after"] == customer
            assert request.headers["webhook-id"] == event["id"]
            with pytest.raises(Exception, match=r"(?i)signature"):
                Verifier("whsec_" + "QUJD" * 8).verify(request.body, request.headers)

    async def test_only_its_types_and_tenant(self, acme: Partner, globex: Partner) -> None:
        async with receiving() as receiver:
            await create_webhook(acme, receiver.url, ["connector.created"])
            await acme.customer("not sent")
            await globex.connector("not ours")
            connector = await acme.connector("sent")
            [event] = await delivered(receiver, 1)
            assert event["subject"]["id"] == connector["id"]

    async def test_a_500_then_200_is_delivered_once_at_200_and_logged(self, acme: Partner) -> None:
        async with receiving([500]) as receiver:
            webhook = await create_webhook(acme, receiver.url)
            await acme.customer("retried")
            [event] = await delivered(receiver, 1, timeout=30)
            assert [request.status for request in receiver.received] == [500, 200]

            async def recorded() -> list[dict[str, Any]] | None:
                # the attempt is recorded once the receiver's answer is in, a moment after it was sent
                log: list[dict[str, Any]] = (await acme.get(f"{WEBHOOKS}/{webhook['id']}/deliveries")).json()["data"]
                return log if log and log[0]["state"] != "pending" else None

            [delivery] = await wait_until(recorded, "the 200 recorded")
            assert delivery["event_id"] == event["id"]
            assert delivery["state"] == "delivered"
            assert [attempt["status_code"] for attempt in delivery["attempts"]] == [500, 200]
            assert delivery["attempts"][0]["error"]
            assert delivery["next_attempt_at"] is None

    async def test_manual_retry_delivers_again(self, acme: Partner) -> None:
        async with receiving() as receiver:
            webhook = await create_webhook(acme, receiver.url)
            await acme.customer("again")
            await delivered(receiver, 1)
            [delivery] = (await acme.get(f"{WEBHOOKS}/{webhook['id']}/deliveries")).json()["data"]
            retry = await acme.post(f"{WEBHOOKS}/{webhook['id']}/deliveries/{delivery['id']}/retry")
            assert retry.status_code == 202
            assert retry.json()["state"] == "pending"
            await delivered(receiver, 2)
            missing = await acme.post(f"{WEBHOOKS}/{webhook['id']}/deliveries/{webhook['id']}/retry")
            assert_problem(missing, 404, "Delivery Not Found")

    async def test_a_rotated_secret_signs_beside_the_new_one(self, acme: Partner) -> None:
        async with receiving() as receiver:
            webhook = await create_webhook(acme, receiver.url)
            rotated = await acme.post(f"{WEBHOOKS}/{webhook['id']}/rotate-secret")
            assert rotated.status_code == 200
            new_secret = rotated.json()["secret"]
            assert new_secret != webhook["secret"]
            await acme.customer("both")
            await delivered(receiver, 1)
            request = receiver.delivered()[0]
            assert len(request.headers["webhook-signature"].split(" ")) == 2
            for secret in (webhook["secret"], new_secret):
                Verifier(secret).verify(request.body, request.headers)

    async def test_the_events_of_one_subject_arrive_in_order(self, acme: Partner) -> None:
        async with receiving([500]) as receiver:
            await create_webhook(acme, receiver.url, ["customer.*"])
            customer = await acme.customer("v1")
            for number in range(2, 5):
                await acme.put(f"/v2/customers/{customer['id']}", json={"name": f"v{number}"})
            events = await delivered(receiver, 4, timeout=30)
            assert [event["data"]["after"]["name"] for event in events] == ["v1", "v2", "v3", "v4"]

    async def test_two_instances_deliver_each_event_once(
        self, make_app: MakeApp, make_client: MakeClient, acme: Partner
    ) -> None:
        other = await make_app(webhook_allow_private=True)
        other_http = await make_client(other)
        async with receiving() as receiver:
            await create_webhook(acme, receiver.url)
            for number in range(30):
                http = acme.http if number % 2 else other_http
                response = await http.post("/v2/customers", json={"name": f"c{number}"}, headers=acme.headers)
                assert response.status_code == 201
            await delivered(receiver, 30, timeout=30)
            ids = [request.headers["webhook-id"] for request in receiver.received]
            assert len(ids) == len(set(ids)) == 30


class TestFailures:
    async def test_three_days_without_success_disable_the_webhook(self, acme: Partner, db: Any) -> None:
        async with receiving([500] * 10) as receiver:
            webhook = await create_webhook(acme, receiver.url)
            await db.execute("UPDATE webhooks SET failing_since = now() - interval '3 days 1 minute'")
            await acme.customer("refused")
            await wait_until(lambda: len(receiver.received) >= 1, "an attempt")

            async def disabled() -> bool:
                return (await acme.get(f"{WEBHOOKS}/{webhook['id']}")).json()["enabled"] is False

            await wait_until(disabled, "the webhook disabled")

    async def test_a_delivery_older_than_three_days_fails_for_good(self, acme: Partner, db: Any) -> None:
        async with receiving([500] * 10) as receiver:
            webhook = await create_webhook(acme, receiver.url)
            await acme.customer("late")
            await wait_until(lambda: len(receiver.received) >= 1, "an attempt")
            await db.execute("UPDATE webhook_deliveries SET created_at = now() - interval '3 days'")
            await db.execute("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE state = 'pending'")

            async def failed() -> bool:
                log = (await acme.get(f"{WEBHOOKS}/{webhook['id']}/deliveries")).json()["data"]
                return bool(log) and log[0]["state"] == "failed" and log[0]["next_attempt_at"] is None

            await wait_until(failed, "the delivery failed", timeout=20)

    async def test_an_address_is_checked_again_at_delivery(self, acme: Partner, db: Any) -> None:
        webhook = await create_webhook(acme, "https://example.com/hook")
        await db.execute("UPDATE webhooks SET url = 'http://169.254.169.254/latest/meta-data'")
        await acme.customer("never sent")

        async def refused() -> bool:
            log = (await acme.get(f"{WEBHOOKS}/{webhook['id']}/deliveries")).json()["data"]
            return bool(log) and bool(log[0]["attempts"])

        await wait_until(refused, "an attempt", timeout=20)
        [delivery] = (await acme.get(f"{WEBHOOKS}/{webhook['id']}/deliveries")).json()["data"]
        attempt = delivery["attempts"][0]
        assert attempt["status_code"] is None
        assert "link-local" in attempt["error"]


class TestDocs:
    async def test_the_python_verifiers_of_docs_events_md_accept_a_delivery(self, acme: Partner) -> None:
        import re
        from pathlib import Path

        text = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
        blocks = re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)
        namespace: dict[str, Any] = {}
        for block in blocks:
            exec(block, namespace)  # noqa: S102 (the docs' own code)
        async with receiving() as receiver:
            webhook = await create_webhook(acme, receiver.url)
            await acme.customer("documented")
            [event] = await delivered(receiver, 1)
            request = receiver.delivered()[0]
            for name in ("verified_event", "verified_event_by_hand"):
                assert namespace[name](webhook["secret"], request.body, request.headers) == event
                with pytest.raises(Exception, match=r"(?i)signature"):
                    namespace[name](webhook["secret"], request.body + b" ", request.headers)
