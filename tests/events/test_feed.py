"""GET /v2/events (docs/api.md §5): each change makes its events in its transaction, rendered as the API
renders the resource; paging by cursor; tenancy; long poll; expired and malformed cursors."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import pytest

from fleetreg.events import feed
from tests.support.auth import MakeApiClient
from tests.support.fleet import Fleet
from tests.support.partner import CONNECTORS, Partner
from tests.support.problems import assert_problem
from tests.support.waiting import wait_until

EVENTS = "/v2/events"


async def events_of(http: httpx.AsyncClient | Partner, **params: Any) -> list[dict[str, Any]]:
    response = await http.get(EVENTS, params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


class TestPartnerEvents:
    async def test_a_connectors_life_is_its_events_with_the_api_rendering(self, acme: Partner) -> None:
        customer = await acme.customer("Lisboa")
        connector = await acme.connector("R-1")
        assigned = await acme.assign(connector["id"], customer["id"])
        unassigned = await acme.assign(connector["id"], None)
        assert (await acme.delete(f"{CONNECTORS}/{connector['id']}")).status_code == 204

        events = await events_of(acme)
        assert types_of(events) == [
            "customer.created",
            "connector.created",
            "connector.assigned",
            "connector.unassigned",
            "connector.deleted",
        ]
        assert events[0]["data"] == {"before": None, "after": customer}
        assert events[1]["data"] == {"before": None, "after": connector}
        assert events[2]["data"] == {"before": connector, "after": assigned}
        assert events[3]["data"] == {"before": assigned, "after": unassigned}
        assert events[4]["data"] == {"before": unassigned, "after": None}
        for event in events:
            assert event["tenant"] == {"partner_id": str(acme.id)}
            assert event["actor"]["kind"] == "client"
            assert event["actor"]["client_id"] == acme.api.client_id
            assert event["actor"]["request_id"]
            assert event["id"].startswith("evt_")
            assert len(event["id"]) == 30
        assert [event["sequence"] for event in events] == sorted({event["sequence"] for event in events})
        assert events[2]["subject"] == {"type": "connector", "id": connector["id"]}

    async def test_the_request_id_is_the_requests(self, acme: Partner) -> None:
        response = await acme.post("/v2/customers", json={"name": "X"}, headers={"X-Request-ID": "req-42"})
        assert response.status_code == 201
        [event] = await events_of(acme)
        assert event["actor"]["request_id"] == "req-42"

    async def test_a_put_that_changes_nothing_makes_no_event(self, acme: Partner) -> None:
        connector = await acme.connector("R-1")
        await acme.assign(connector["id"], None)
        assert types_of(await events_of(acme)) == ["connector.created"]

    async def test_a_refused_write_makes_no_event(self, acme: Partner) -> None:
        await acme.connector("R-1")
        response = await acme.post(
            CONNECTORS, json={"name": "R-1", "type": "virtual", "hardware_version": "1", "software_version": "1"}
        )
        assert response.status_code == 409
        assert types_of(await events_of(acme)) == ["connector.created"]

    async def test_an_idempotent_replay_makes_no_second_event(self, acme: Partner) -> None:
        for _ in range(2):
            response = await acme.post("/v2/customers", json={"name": "X"}, headers={"Idempotency-Key": "k1"})
            assert response.status_code == 201
        assert types_of(await events_of(acme)) == ["customer.created"]

    async def test_a_partner_sees_only_its_own_events_and_no_fleet_event(
        self, acme: Partner, globex: Partner, fleet: Fleet
    ) -> None:
        await acme.customer("A")
        await globex.customer("G")
        await fleet.enterprise()
        assert [event["data"]["after"]["name"] for event in await events_of(acme)] == ["A"]
        assert [event["data"]["after"]["name"] for event in await events_of(globex)] == ["G"]

    async def test_without_events_read_it_is_403(
        self, client: httpx.AsyncClient, make_api_client: MakeApiClient
    ) -> None:
        reader = await make_api_client(partner="acme", scope="connectors:read")
        response = await client.get(EVENTS, headers=reader.headers)
        assert_problem(response, 403, "Forbidden")


class TestFleetEvents:
    async def test_entities_and_associations(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        first = await fleet.device(enterprise["id"])
        second = await fleet.device(enterprise["id"])
        chip = await fleet.chip()
        installed = (
            await client.patch(f"/v2/chips/{chip['id']}", json={"data": {"attributes": {"device_id": first["id"]}}})
        ).json()["data"]
        [main, other] = await fleet.associate((vehicle["id"], first["id"], True), (vehicle["id"], second["id"], False))
        promote = await client.patch(
            f"/v2/vehicles/{vehicle['id']}/associations/devices/{other['id']}",
            json={"data": {"attributes": {"is_main_device": True}}},
        )
        assert promote.status_code == 200
        assert (await fleet.end(main["id"])).status_code == 200

        events = await events_of(client)
        assert types_of(events) == [
            "enterprise.created",
            "vehicle.created",
            "device.created",
            "device.created",
            "chip.created",
            "chip.installed",
            "association.started",
            "association.started",
            "association.main_changed",
            "association.main_changed",
            "association.ended",
        ]
        assert events[0]["data"]["after"] == enterprise
        assert events[4]["data"]["after"] == chip
        assert events[5]["data"] == {"before": chip, "after": installed}
        assert events[5]["tenant"] == {"enterprise_id": enterprise["id"]}
        assert events[4]["tenant"] == {"enterprise_id": None}
        assert events[6]["data"]["after"] == main
        assert {event["subject"]["id"] for event in events[8:10]} == {main["id"], other["id"]}
        assert all(event["actor"]["kind"] == "anonymous" for event in events)

    async def test_a_soft_delete_is_deleted(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        vehicle = await fleet.vehicle(enterprise["id"])
        assert (await client.delete(f"/v2/vehicles/{vehicle['id']}")).status_code == 204
        events = await events_of(client, type="vehicle.*")
        assert types_of(events) == ["vehicle.created", "vehicle.deleted"]
        assert events[1]["data"] == {"before": vehicle, "after": None}

    async def test_a_bulk_create_is_one_event_per_resource(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        items = [{"attributes": fleet.vehicle_attributes(enterprise["id"])} for _ in range(5)]
        response = await client.post("/v2/vehicles", json={"data": items})
        assert response.status_code == 201
        events = await events_of(client, type="vehicle.created")
        assert [event["data"]["after"] for event in events] == response.json()["data"]

    async def test_subject_id_is_one_resources_story(self, client: httpx.AsyncClient, fleet: Fleet) -> None:
        enterprise = await fleet.enterprise()
        await fleet.enterprise()
        await client.patch(f"/v2/enterprises/{enterprise['id']}", json={"data": {"attributes": {"name": "New"}}})
        events = await events_of(client, subject_id=enterprise["id"])
        assert types_of(events) == ["enterprise.created", "enterprise.updated"]
        assert events[1]["data"]["after"]["attributes"]["name"] == "New"

    async def test_subject_id_is_exact_when_ids_share_a_hash(
        self, client: httpx.AsyncClient, db: asyncpg.Connection
    ) -> None:
        # The subject index is keyed by hashtext(subject_id) (migration 0020): two ids of one hash.
        first, second = await db.fetchrow(
            "SELECT min(s), max(s) FROM (SELECT 'E' || i AS s FROM generate_series(1, 300000) AS i) AS ids "
            "GROUP BY hashtext(s) HAVING count(*) > 1 LIMIT 1"
        )
        for subject in (first, second, first):
            await db.execute(
                "INSERT INTO events (sequence, occurred_at, type, enterprise_id, actor, subject_type, subject_id)"
                " VALUES (nextval('events_sequence'), now(), 'enterprise.updated', $1, '{\"kind\":\"cli\"}',"
                " 'enterprise', $1)",
                subject,
            )
        assert [event["subject"]["id"] for event in await events_of(client, subject_id=first)] == [first, first]
        assert [event["subject"]["id"] for event in await events_of(client, subject_id=second)] == [second]

    async def test_an_enterprise_bound_client_sees_its_enterprise_only(
        self, make_app: Any, make_client: Any, make_api_client: MakeApiClient
    ) -> None:
        app = await make_app(fleet_auth="required")
        http = await make_client(app)
        writer = await make_api_client(partner=None, scope="fleet:read fleet:write")
        fleet = Fleet(http, writer.headers)
        mine, theirs = await fleet.enterprise(), await fleet.enterprise()
        await fleet.vehicle(theirs["id"])
        bound = await make_api_client(partner=None, scope="fleet:read", enterprise=mine["id"])
        response = await http.get(EVENTS, headers=bound.headers)
        assert response.status_code == 200
        assert [event["subject"]["id"] for event in response.json()["data"]] == [mine["id"]]
        assert_problem(await http.get(EVENTS), 401, "Unauthorized")


class TestPaging:
    async def test_next_cursor_pages_through_every_event_once(self, acme: Partner) -> None:
        for number in range(7):
            await acme.customer(f"C{number}")
        seen: list[int] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 3} if cursor is None else {"limit": 3, "after": cursor}
            body = (await acme.get(EVENTS, params=params)).json()
            seen += [event["sequence"] for event in body["data"]]
            assert body["next_cursor"]
            cursor = body["next_cursor"]
            if not body["has_more"]:
                break
        assert len(seen) == 7 == len(set(seen))
        assert seen == sorted(seen)
        empty = (await acme.get(EVENTS, params={"after": cursor})).json()
        assert empty == {"data": [], "next_cursor": cursor, "has_more": False}

    async def test_an_empty_feed_has_a_cursor(self, acme: Partner) -> None:
        body = (await acme.get(EVENTS)).json()
        assert body["data"] == []
        assert body["next_cursor"] is not None
        assert body["has_more"] is False

    @pytest.mark.parametrize(
        "params",
        [
            {"after": "abc"},
            {"after": "-1"},
            {"after": "99999999999999999999"},
            {"limit": "0"},
            {"limit": "1001"},
            {"wait": "31"},
            {"type": "vehicle.painted"},
            {"color": "red"},
        ],
    )
    async def test_malformed_parameters_are_400(self, acme: Partner, params: dict[str, str]) -> None:
        assert_problem(await acme.get(EVENTS, params=params), 400, "Bad Request")

    async def test_a_cursor_older_than_the_retention_is_410(self, acme: Partner, db: asyncpg.Connection) -> None:
        await acme.customer("A")
        await db.execute("UPDATE events_pruned SET through_sequence = 10")
        assert_problem(await acme.get(EVENTS, params={"after": "3"}), 410, "Cursor Expired")
        assert (await acme.get(EVENTS, params={"after": "10"})).status_code == 200

    async def test_type_prefix_and_exact_types(self, acme: Partner) -> None:
        customer = await acme.customer("A")
        connector = await acme.connector("R-1")
        await acme.assign(connector["id"], customer["id"])
        assert types_of(await events_of(acme, type="connector.*")) == ["connector.created", "connector.assigned"]
        both = await acme.get(EVENTS, params=[("type", "customer.created"), ("type", "connector.assigned")])
        assert types_of(both.json()["data"]) == ["customer.created", "connector.assigned"]


class TestLongPoll:
    async def test_wait_answers_as_soon_as_a_matching_event_commits(self, acme: Partner) -> None:
        cursor = (await acme.get(EVENTS)).json()["next_cursor"]

        async def later() -> None:
            await asyncio.sleep(0.3)
            await acme.connector("R-1")  # not a customer event: the poll must not wake with nothing
            await asyncio.sleep(0.3)
            await acme.customer("A")

        started = time.monotonic()
        writer = asyncio.create_task(later())
        response = await acme.get(EVENTS, params={"after": cursor, "wait": "10", "type": "customer.*"})
        elapsed = time.monotonic() - started
        await writer
        assert types_of(response.json()["data"]) == ["customer.created"]
        assert 0.5 < elapsed < 5

    async def test_commits_notify_only_while_a_process_waits_for_events(self, acme: Partner, database_url: str) -> None:
        listener = await asyncpg.connect(database_url)
        heard: list[str] = []
        await listener.add_listener("fleetreg_events", lambda *notification: heard.append(notification[-1]))

        async def notifications_so_far() -> list[str]:
            # a notification of a committed write reaches the listener before its next answer
            await listener.execute("SELECT 1")
            await asyncio.sleep(0)
            return heard

        try:
            await acme.customer("nobody waits")
            assert await notifications_so_far() == []
            cursor = (await acme.get(EVENTS)).json()["next_cursor"]
            poll = asyncio.create_task(acme.get(EVENTS, params={"after": cursor, "wait": "10"}))
            await wait_until(
                lambda: listener.fetchval("SELECT count(*) FROM event_followers WHERE until > now()"),
                "the long poll enrolled its process",
            )
            started = time.monotonic()
            await acme.customer("one waits")
            response = await poll
            assert [event["data"]["after"]["name"] for event in response.json()["data"]] == ["one waits"]
            assert time.monotonic() - started < feed.REREAD_SECONDS  # woken, not found by the reread
            assert await notifications_so_far() == [response.json()["next_cursor"]]
        finally:
            await listener.close()

    async def test_wait_ends_empty_after_its_seconds(self, acme: Partner) -> None:
        started = time.monotonic()
        response = await acme.get(EVENTS, params={"wait": "1"})
        assert response.json()["data"] == []
        assert 0.9 < time.monotonic() - started < 5
