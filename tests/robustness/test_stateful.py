"""Random sequences of association writes and deletes through the API, checked after every step
against a model of the contract and against the database (the four invariants of docs/api.md section 3).

The state machine runs in a worker thread (Hypothesis drives it synchronously) and sends each
request to the test's own event loop, where the app, the client and the database connection live:
nothing crosses loops, and pytest-asyncio's function-scoped loop stays the only one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.support.fleet import Fleet
from tests.support.invariants import assert_invariants, assert_totals_exact

T = TypeVar("T")

ASSOCIATIONS = "/v2/vehicles/associations/devices"
MACHINE_SETTINGS = settings(
    max_examples=50,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,  # the same sequences on every run and in CI
    database=None,
    # No shrinking: replaying sequences through the API to shrink one takes minutes (Hypothesis
    # stops after five); the failing sequence is printed as found, and derandomize replays it.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
UNKNOWN_ID = "ZZZZZZZZZZZZZZZ"  # well-formed, never generated (the service's ids are random)

index = st.integers(min_value=0, max_value=1000)
rarely = st.sampled_from([False, False, False, True])
which = st.sampled_from(["in use", "in use", "in use", "live", "any"])
twist = st.sampled_from(["", "", "", "", "", "deleted", "elsewhere", "busy"])


@dataclass
class Association:
    id: str
    vehicle: str
    device: str
    main: bool
    active: bool = True


@dataclass(frozen=True)
class Expected:
    status: int
    title: str = ""


def machine(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient, db: asyncpg.Connection) -> type[Any]:
    """The state machine class, bound to the test's loop, client and database connection."""
    fleet = Fleet(client)  # one for every example: its numbers keep CNPJs and IMEIs unique

    def run(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    class Associations(RuleBasedStateMachine):
        """Two enterprises; vehicles and devices in them; associations among them."""

        def __init__(self) -> None:
            super().__init__()
            self.enterprise_of: dict[str, str] = {}
            self.vehicles: list[str] = []
            self.devices: list[str] = []
            self.deleted: set[str] = set()
            self.associations: dict[str, Association] = {}
            self.touched: set[str] = set()  # vehicles whose list to compare after this step
            self.chip_of: dict[str, str] = {}  # device -> the chip installed in it
            self.chips: list[str] = []
            self.deleted_chips: list[str] = []

        # -- helpers ----------------------------------------------------------------------------

        def live(self, ids: list[str]) -> list[str]:
            return [i for i in ids if i not in self.deleted]

        def active(self) -> list[Association]:
            return [a for a in self.associations.values() if a.active]

        def add_vehicle(self, enterprise: str) -> None:
            response = run(
                client.post("/v2/vehicles", json={"data": {"attributes": fleet.vehicle_attributes(enterprise)}})
            )
            self.check(response, Expected(404, "Enterprise Not Found") if enterprise in self.deleted else Expected(201))
            if response.status_code == 201:
                self.vehicles.append(response.json()["data"]["id"])
                self.enterprise_of[self.vehicles[-1]] = enterprise

        def add_device(self, enterprise: str) -> None:
            response = run(
                client.post("/v2/devices", json={"data": {"attributes": fleet.device_attributes(enterprise)}})
            )
            self.check(response, Expected(404, "Enterprise Not Found") if enterprise in self.deleted else Expected(201))
            if response.status_code == 201:
                self.devices.append(response.json()["data"]["id"])
                self.enterprise_of[self.devices[-1]] = enterprise

        def chip_target(self, pick: int, how: str) -> tuple[str, Expected]:
            """A device for a chip, and what installing one there gives."""
            free = [d for d in self.live(self.devices) if d not in self.chip_of]
            pool = {"free": free, "holding": list(self.chip_of), "any": self.devices}[how] or self.devices
            device = pool[pick % len(pool)]
            if device in self.deleted:
                return device, Expected(404, "Device Not Found")
            if device in self.chip_of:
                return device, Expected(409, "Device Already Has Chip")
            return device, Expected(200)

        def check(self, response: httpx.Response, expected: Expected) -> None:
            assert response.status_code == expected.status, (expected, response.text)
            if expected.title:
                assert response.json()["title"] == expected.title, (expected, response.text)

        # -- rules ------------------------------------------------------------------------------

        @initialize()
        def enterprises(self) -> None:
            self.enterprises = [run(fleet.enterprise())["id"] for _ in range(2)]
            first, second = self.enterprises
            for _ in range(3):
                self.add_vehicle(first)
            for _ in range(4):
                self.add_device(first)
            self.add_vehicle(second)
            self.add_device(second)

        @rule(
            items=st.lists(
                st.tuples(index, index, st.sampled_from(["auto", "auto", "auto", True, False]), twist),
                min_size=1,
                max_size=3,
            )
        )
        def associate(self, items: list[tuple[int, int, str | bool, str]]) -> None:
            """Mostly a free device of the vehicle's enterprise, made main when the vehicle needs one
            ("auto"); sometimes (the twist) a deleted vehicle or device, another enterprise's device or a
            busy one, or a forced role."""
            chosen: list[tuple[str, str, bool]] = []
            busy = {a.device for a in self.active()}
            for v, d, role, how in items:
                vehicles = self.vehicles if how == "deleted" else self.live(self.vehicles)
                vehicle = vehicles[v % len(vehicles)] if vehicles else self.vehicles[v % len(self.vehicles)]
                devices = self.devices if how == "deleted" else self.live(self.devices)
                if how != "elsewhere":
                    devices = [x for x in devices if self.enterprise_of[x] == self.enterprise_of[vehicle]] or devices
                if how != "busy":
                    taken = busy | {c[1] for c in chosen}
                    devices = [x for x in devices if x not in taken] or devices
                device = devices[d % len(devices)] if devices else self.devices[d % len(self.devices)]
                if role == "auto":
                    has_main = any(a.main and a.vehicle == vehicle for a in self.active())
                    main = not has_main and not any(c[0] == vehicle and c[2] for c in chosen)
                else:
                    main = bool(role)
                chosen.append((vehicle, device, main))
            expected = self.expect_associate(chosen)
            response = run(fleet.associate_raw(*chosen))
            self.check(response, expected)
            self.touched = {vehicle for vehicle, _, _ in chosen}
            if response.status_code == 200:
                created = response.json()["data"]
                assert [
                    (a["attributes"]["vehicle_id"], a["attributes"]["device_id"], a["attributes"]["is_main_device"])
                    for a in created
                ] == chosen
                for association, (vehicle, device, main) in zip(created, chosen, strict=True):
                    assert association["attributes"]["ended_at"] is None
                    self.associations[association["id"]] = Association(association["id"], vehicle, device, main)

        def expect_associate(self, items: list[tuple[str, str, bool]]) -> Expected:
            if any(vehicle in self.deleted for vehicle, _, _ in items):
                return Expected(404, "Vehicle Not Found")
            if any(device in self.deleted for _, device, _ in items):
                return Expected(404, "Device Not Found")
            if any(self.enterprise_of[vehicle] != self.enterprise_of[device] for vehicle, device, _ in items):
                return Expected(400, "Vehicle And Device Are in Different Enterprises")
            busy = {a.device for a in self.active()}
            seen: set[str] = set()
            for _, device, _ in items:
                if device in busy or device in seen:
                    return Expected(400, "Device(s) Already Associated With Another Vehicle")
                seen.add(device)
            with_main = {a.vehicle for a in self.active() if a.main}
            new_mains: set[str] = set()
            for vehicle, _, main in items:
                if main:
                    if vehicle in with_main or vehicle in new_mains:
                        return Expected(400, "Vehicle Already Has Main Device")
                    new_mains.add(vehicle)
            if any(vehicle not in with_main and vehicle not in new_mains for vehicle, _, _ in items):
                return Expected(400, "One Vehicle-Device Association Must Be Main")
            return Expected(200)

        @rule(
            mode=st.sampled_from(["active", "active", "vehicle", "any"]),
            picks=st.lists(index, min_size=1, max_size=3),
            unknown=rarely,
        )
        def end(self, mode: str, picks: list[int], unknown: bool) -> None:
            """Some active associations, or all those of one vehicle, or any ever made."""
            active = [a.id for a in self.active()]
            if mode == "any" or not active:
                known = list(self.associations)
            elif mode == "vehicle":
                vehicle = self.associations[active[picks[0] % len(active)]].vehicle
                known = [a.id for a in self.active() if a.vehicle == vehicle]
                picks = list(range(len(known)))
            else:
                known = active
            ids = list(dict.fromkeys(known[pick % len(known)] for pick in picks)) if known else []
            if unknown or not ids:
                ids.append(UNKNOWN_ID)
            expected = self.expect_end(ids)
            response = run(fleet.end(*ids))
            self.check(response, expected)
            self.touched = {self.associations[i].vehicle for i in ids if i in self.associations}
            if response.status_code == 200:
                ended = response.json()["data"]
                assert [a["id"] for a in ended] == ids
                assert all(a["attributes"]["ended_at"] is not None for a in ended)
                for association_id in ids:
                    self.associations[association_id].active = False

        def expect_end(self, ids: list[str]) -> Expected:
            if any(i not in self.associations or not self.associations[i].active for i in ids):
                return Expected(404, "Association Not Found")
            for association_id in ids:
                ending = self.associations[association_id]
                staying = [a for a in self.active() if a.vehicle == ending.vehicle and a.id not in ids]
                if ending.main and staying:
                    return Expected(400, "One Vehicle-Device Association Must Be Main")
            return Expected(200)

        @precondition(lambda self: self.associations)
        @rule(pick=index, main=st.sampled_from([True, True, False, None]), any_one=rarely, other_vehicle=rarely)
        def patch(self, pick: int, main: bool | None, any_one: bool, other_vehicle: bool) -> None:
            """Mostly an active association through its own vehicle."""
            candidates = self.active() if self.active() and not any_one else list(self.associations.values())
            association = candidates[pick % len(candidates)]
            vehicle = self.vehicles[pick % len(self.vehicles)] if other_vehicle else association.vehicle
            attributes = {} if main is None else {"is_main_device": main}
            if association.vehicle != vehicle or not association.active:
                expected = Expected(404, "Association Not Found")
            elif main is False and association.main:
                expected = Expected(400, "One Vehicle-Device Association Must Be Main")
            else:
                expected = Expected(200)
            response = run(
                client.patch(
                    f"/v2/vehicles/{vehicle}/associations/devices/{association.id}",
                    json={"data": {"attributes": attributes}},
                )
            )
            self.check(response, expected)
            self.touched = {vehicle}
            if response.status_code == 200:
                if main and not association.main:
                    for other in self.active():
                        if other.vehicle == vehicle:
                            other.main = False
                    association.main = True
                assert response.json()["data"]["attributes"]["is_main_device"] == association.main

        @rule(pick=index, which=which)
        def delete_vehicle(self, pick: int, which: str) -> None:
            """Mostly one in use (409): deleting drains the pool the other rules draw from."""
            vehicles = {
                "in use": [a.vehicle for a in self.active()],
                "live": self.live(self.vehicles),
                "any": self.vehicles,
            }[which] or self.vehicles
            vehicle = vehicles[pick % len(vehicles)]
            if vehicle in self.deleted:
                expected = Expected(404, "Vehicle Not Found")
            elif any(a.vehicle == vehicle for a in self.active()):
                expected = Expected(409, "Vehicle In Use")
            else:
                expected = Expected(204)
            response = run(client.delete(f"/v2/vehicles/{vehicle}"))
            self.check(response, expected)
            self.touched = {vehicle}
            if response.status_code == 204:
                self.deleted.add(vehicle)

        @rule(pick=index, which=which)
        def delete_device(self, pick: int, which: str) -> None:
            devices = {
                "in use": [a.device for a in self.active()],
                "live": self.live(self.devices),
                "any": self.devices,
            }[which] or self.devices
            device = devices[pick % len(devices)]
            if device in self.deleted:
                expected = Expected(404, "Device Not Found")
            elif any(a.device == device for a in self.active()) or device in self.chip_of:
                expected = Expected(409, "Device In Use")
            else:
                expected = Expected(204)
            response = run(client.delete(f"/v2/devices/{device}"))
            self.check(response, expected)
            self.touched = {a.vehicle for a in self.active() if a.device == device}
            if response.status_code == 204:
                self.deleted.add(device)

        @rule(second=st.booleans())
        def delete_enterprise(self, second: bool) -> None:
            enterprise = self.enterprises[second]
            if enterprise in self.deleted:
                expected = Expected(404, "Enterprise Not Found")
            elif any(self.enterprise_of[i] == enterprise for i in self.live(self.vehicles + self.devices)):
                expected = Expected(409, "Enterprise In Use")
            else:
                expected = Expected(204)
            response = run(client.delete(f"/v2/enterprises/{enterprise}"))
            self.check(response, expected)
            if response.status_code == 204:
                self.deleted.add(enterprise)

        @rule(pick=index, how=st.sampled_from(["free", "free", "holding", "any", "stock"]))
        def new_chip(self, pick: int, how: str) -> None:
            """A chip in stock, or installed in a device (404 deleted, 409 holding one already)."""
            if how == "stock":
                device, expected = None, Expected(201)
            else:
                device, expected = self.chip_target(pick, how)
                expected = Expected(201) if expected.status == 200 else expected
            response = run(client.post("/v2/chips", json={"data": {"attributes": fleet.chip_attributes(device)}}))
            self.check(response, expected)
            if response.status_code == 201:
                self.chips.append(response.json()["data"]["id"])
                if device is not None:
                    self.chip_of[device] = self.chips[-1]
                    self.touched = {a.vehicle for a in self.active() if a.device == device}

        @precondition(lambda self: self.chips)
        @rule(chip_pick=index, pick=index, how=st.sampled_from(["free", "free", "holding", "any", "remove", "delete"]))
        def move_chip(self, chip_pick: int, pick: int, how: str) -> None:
            """Install a chip in another device, remove it (device_id null), or delete it."""
            chip = self.chips[chip_pick % len(self.chips)]
            holder = next((d for d, c in self.chip_of.items() if c == chip), None)
            if how == "delete":
                self.check(run(client.delete(f"/v2/chips/{chip}")), Expected(204))
                self.chips.remove(chip)
                self.deleted_chips.append(chip)
                device = None
            elif how == "remove":
                response = run(client.patch(f"/v2/chips/{chip}", json={"data": {"attributes": {"device_id": None}}}))
                self.check(response, Expected(200))
                device = None
            else:
                device, expected = self.chip_target(pick, how)
                if device == holder:
                    expected = Expected(200)
                body = {"data": {"attributes": {"device_id": device}}}
                response = run(client.patch(f"/v2/chips/{chip}", json=body))
                self.check(response, expected)
                if response.status_code != 200:
                    return
            if holder is not None:
                del self.chip_of[holder]
            if device is not None:
                self.chip_of[device] = chip
            self.touched = {a.vehicle for a in self.active() if a.device in (holder, device)}

        @precondition(lambda self: len(self.live(self.vehicles)) < 5 and len(self.vehicles) < 20)
        @rule(second=st.booleans())
        def new_vehicle(self, second: bool) -> None:
            self.add_vehicle(self.enterprises[second])

        @precondition(lambda self: len(self.live(self.devices)) < 8 and len(self.devices) < 30)
        @rule(second=st.booleans())
        def new_device(self, second: bool) -> None:
            self.add_device(self.enterprises[second])

        # -- after every step -------------------------------------------------------------------

        @invariant()
        def database_agrees(self) -> None:
            if not self.vehicles:
                return  # before initialize
            run(assert_invariants(db))
            rows = run(
                db.fetch(
                    """SELECT id, vehicle_id, device_id, is_main_device, ended_at IS NULL AS active
                       FROM device_associations WHERE enterprise_id = ANY($1::text[])""",
                    self.enterprises,
                )
            )
            assert {(r["id"], r["vehicle_id"], r["device_id"], r["is_main_device"], r["active"]) for r in rows} == {
                (a.id, a.vehicle, a.device, a.main, a.active) for a in self.associations.values()
            }
            deleted = run(
                db.fetch(
                    """SELECT id FROM vehicles WHERE enterprise_id = ANY($1::text[]) AND deleted_at IS NOT NULL
                       UNION ALL
                       SELECT id FROM devices WHERE enterprise_id = ANY($1::text[]) AND deleted_at IS NOT NULL""",
                    self.enterprises,
                )
            )
            assert {row["id"] for row in deleted} == self.deleted - set(self.enterprises)
            chips = run(
                db.fetch("SELECT id, device_id FROM chips WHERE id = ANY($1::text[])", self.chips + self.deleted_chips)
            )
            assert {(row["id"], row["device_id"]) for row in chips} == {
                (chip, next((d for d, c in self.chip_of.items() if c == chip), None)) for chip in self.chips
            }

        @invariant()
        def listed_associations_agree(self) -> None:
            for vehicle in sorted(self.touched):
                response = run(client.get(f"/v2/vehicles/{vehicle}/associations/devices", params={"limit": 100}))
                if vehicle in self.deleted:
                    assert response.status_code == 404, response.text
                    continue
                assert response.status_code == 200, response.text
                listed = [
                    (
                        item["id"],
                        item["attributes"]["device_id"],
                        item["attributes"]["is_main_device"],
                        item["attributes"]["chip"] is not None,
                    )
                    for item in response.json()["data"]
                ]
                expected = {
                    (a.id, a.device, a.main, a.device in self.chip_of) for a in self.active() if a.vehicle == vehicle
                }
                assert set(listed) == expected
                assert len(listed) == len(expected)
                if listed:
                    assert listed[0][2], "the main one comes first"
            self.touched = set()

    return Associations


async def test_random_association_sequences_keep_the_contract(
    client: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    associations = machine(asyncio.get_running_loop(), client, db)
    await asyncio.to_thread(run_state_machine_as_test, associations, settings=MACHINE_SETTINGS)
    await assert_invariants(db)
    await assert_totals_exact(db)
