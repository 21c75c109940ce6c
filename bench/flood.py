"""Issue 14 item 5: other clients' reads under a flood of token requests with wrong secrets.

fleetreg alone (the peer has no authentication). A reader (wrk -c8, connector get by id with a valid
token) is measured without a flood, then beside a flood of 16 and of 64 concurrent ``/oauth/token``
requests: wrong secrets of the bench's real client, and unknown client ids (a new one per request).
The bench's reading of "unaffected": the reader's p50 at most 2x, and its errors none; the memory of
``fleetreg serve`` (its worker) at most 20 MiB above what it was before the floods.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time

from bench.data import log
from bench.run import WORK, Bench, lua_paths, parse_wrk, wrk_command

READ_P50_LIMIT = 2.0
MEMORY_GROWTH_LIMIT_MIB = 20.0


def flood_script(headers: list[str]) -> str:
    """POSTs to /oauth/token, each with the next Authorization header; counts the answers' statuses."""
    quoted = ",".join(json.dumps(h) for h in headers)
    return f"""
local headers = {{{quoted}}}
local i = 0
s401, s429, s2xx, sother = 0, 0, 0, 0
request = function()
  i = i % #headers + 1
  return wrk.format("POST", "/oauth/token", {{["Authorization"] = headers[i],
    ["Content-Type"] = "application/x-www-form-urlencoded"}}, "grant_type=client_credentials")
end
response = function(status)
  if status == 401 then s401 = s401 + 1 elseif status == 429 then s429 = s429 + 1
  elseif status < 300 then s2xx = s2xx + 1 else sother = sother + 1 end
end
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
done = function()
  for _, t in ipairs(threads) do
    io.write(string.format("statuses 401=%d 429=%d 2xx=%d other=%d\\n",
      t:get("s401"), t:get("s429"), t:get("s2xx"), t:get("sother")))
  end
end
"""


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def scenario(bench: Bench) -> None:
    ids = bench.fleetreg_sql("SELECT id FROM connectors ORDER BY md5(id::text) LIMIT 1000")
    reader = lua_paths([f"/v2/customers/connectors/{i}" for i in ids], bench.setup.auth)
    seconds = max(3.0, bench.options.seconds)
    base = bench.setup.fleetreg_base
    client_id = bench.setup.loaded.credentials["client_id"]
    floods = {
        "wrong secrets": [_basic(client_id, f"wrong-{n}") for n in range(200)],
        "unknown client ids": [_basic(f"unknown-{os.urandom(6).hex()}", "x") for _ in range(2000)],
    }
    quiet = bench.run_wrk(base, reader, connections=8, seconds=seconds)
    rss_before = bench.rss_mib()
    log(f"[{bench.setup.name}] reads without a flood: p50 {quiet.p50_ms:.2f} ms, p99 {quiet.p99_ms:.2f} ms")
    for concurrency in (16, 64):
        for kind, headers in floods.items():
            script = WORK / f"flood-{os.getpid()}.lua"
            script.write_text(flood_script(headers))
            flood = subprocess.Popen(
                wrk_command(bench.wrk, base, script, seconds=seconds + 2, connections=concurrency),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1)  # the flood under way first
            loud = bench.run_wrk(base, reader, connections=8, seconds=seconds)
            rss_during = bench.rss_mib()
            out, _ = flood.communicate(timeout=seconds + 60)
            flooded = parse_wrk(out)
            statuses = re.search(r"statuses (.*)", out)
            time.sleep(2)  # the verifications still queued finish
            rss = bench.rss_mib()
            name = f"reads p50 beside {concurrency} concurrent token requests, {kind}"
            log(
                f"[{bench.setup.name}] {name}: p50 {loud.p50_ms:.2f} ms (p99 {loud.p99_ms:.2f}), flood "
                f"{flooded.rps:.0f} req/s p50 {flooded.p50_ms:.1f} ms {statuses.group(1) if statuses else ''}, "
                f"RSS during {rss_during['worker']} MiB, after {rss['worker']} MiB"
            )
            bench.record(
                {
                    "name": f"{name} (ms; ratio to {quiet.p50_ms:.2f} ms without)",
                    "unit": "ms",
                    "peer": None,
                    "fleetreg": loud.p50_ms,
                    "ratio": loud.p50_ms / quiet.p50_ms,
                    "target": READ_P50_LIMIT,
                    "at_most": True,
                    "errors": {"fleetreg": loud.errors},
                    "detail": {
                        "reader_p99_ms": loud.p99_ms,
                        "reader_p99_ms_quiet": quiet.p99_ms,
                        "reader_rps": loud.rps,
                        "reader_rps_quiet": quiet.rps,
                        "flood_rps": flooded.rps,
                        "flood_p50_ms": flooded.p50_ms,
                        "flood_statuses": statuses.group(1) if statuses else None,
                        "rss_mib_during": rss_during,
                        "rss_mib_after": rss,
                    },
                }
            )
    rss_after = bench.rss_mib()
    bench.check(
        f"RSS growth of the serve worker over the floods ({rss_before['worker']} -> {rss_after['worker']} MiB)",
        round(rss_after["worker"] - rss_before["worker"], 1),
        MEMORY_GROWTH_LIMIT_MIB,
        unit="MiB",
    )
