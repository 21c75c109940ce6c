"""Benchmark datasets as CSV files for `fleetreg import`.

Partner: the peer's distribution (its schema.sql): C customers, N connectors named 1000000+g, 60 %
assigned (g % 10 < 6), spread over the customers by (g / 10) % C, half physical, half virtual.

Fleet: E enterprises, V vehicles, D devices, each device with one chip; associations are created
through the API by the runner (there is no association import).
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path


def partner_csvs(directory: Path, customers: int, connectors: int, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    customer_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(customers)]
    customers_file = directory / f"customers-{customers}.csv"
    with customers_file.open("w") as out:
        out.write("id,name\n")
        for number, customer_id in enumerate(customer_ids, start=1):
            out.write(f"{customer_id},customer {number}\n")
    connectors_file = directory / f"connectors-{connectors}.csv"
    with connectors_file.open("w") as out:
        out.write("id,name,type,hardware_version,software_version,pin,customer_id\n")
        for g in range(1, connectors + 1):
            customer = customer_ids[(g // 10) % customers] if g % 10 < 6 else ""
            kind = "physical" if g % 2 == 0 else "virtual"
            connector_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            pin = f"{g * 7919 % 100000:05d}"
            out.write(f"{connector_id},{1000000 + g},{kind},{1 + g % 20},{8000 + g % 999},{pin},{customer}\n")
    return customers_file, connectors_file


def luhn_complete(digits: str) -> str:
    """``digits`` with the Luhn check digit appended."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:  # these are doubled once the check digit is appended
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return digits + str((10 - total % 10) % 10)


def cnpj_complete(base: str) -> str:
    """12 characters (0-9, A-Z) with the two mod-11 check digits appended."""
    weights = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    value = base
    for length in (12, 13):
        total = sum((ord(char) - 48) * weight for char, weight in zip(value, weights[13 - length :], strict=True))
        remainder = total % 11
        value += str(0 if remainder < 2 else 11 - remainder)
    return value


def fleet_id(prefix: str, number: int) -> str:
    """A 15-character id, readable in the logs: e.g. V00000000012345."""
    return f"{prefix}{number:0{15 - len(prefix)}d}"


def fleet_csvs(directory: Path, enterprises: int, vehicles: int, devices: int) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        name: directory / f"{name}-{count}.csv"
        for name, count in (
            ("enterprises", enterprises),
            ("vehicles", vehicles),
            ("devices", devices),
            ("chips", devices),
        )
    }
    with files["enterprises"].open("w") as out:
        out.write("id,name,cnpj\n")
        for number in range(enterprises):
            out.write(f"{fleet_id('E', number)},Enterprise {number},{cnpj_complete(f'{number:012d}')}\n")
    with files["vehicles"].open("w") as out:
        out.write("id,enterprise_id,name,plate,vin\n")
        for number in range(vehicles):
            out.write(f"{fleet_id('V', number)},{fleet_id('E', number % enterprises)},Truck {number},P{number:07d},\n")
    with files["devices"].open("w") as out:
        out.write("id,enterprise_id,name,imei,code\n")
        for number in range(devices):
            imei = luhn_complete(f"35{number:012d}")
            out.write(
                f"{fleet_id('D', number)},{fleet_id('E', number % enterprises)},Tracker {number},{imei},T{number}\n"
            )
    with files["chips"].open("w") as out:
        out.write("id,serial,number,carrier,service_provider,batch,device_id\n")
        for number in range(devices):
            serial = luhn_complete(f"895501{number:012d}")
            carrier = ("Vivo", "Claro", "TIM")[number % 3]
            out.write(
                f"{fleet_id('C', number)},{serial},+55119{number:08d},{carrier},{carrier} IoT,B{number // 1000},"
                f"{fleet_id('D', number)}\n"
            )
    return files
