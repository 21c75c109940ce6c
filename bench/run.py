"""Side-by-side benchmark of fleetreg and the Fastify peer (``make bench``; see bench/README.md).

On each PostgreSQL setup (bench/postgres.py: the embedded server over its unix socket, Debian's
postgresql-15 over TCP) the datasets of ``--scale`` are loaded once (bench/data.py), one peer process
(Node, Fastify; both of its APIs) and one ``fleetreg serve --workers 1`` are started, and every
scenario module of ``SCENARIOS`` measures through a ``Bench``: the same requests to both servers,
alternating round after round. Then the growth comparison (bench/growth.py) runs on the embedded
setup. The report gives per target the medians, the ratio and whether it is met, and ends with one
verdict line.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import data, postgres
from bench.data import Loaded, Scale, log

# Scenario modules, run in this order on every setup once both servers serve the loaded data. Each
# defines ``scenario(bench: Bench) -> None`` and records its figures through ``bench`` (compare,
# record, check). To add one: write bench/<name>.py and add "bench.<name>" here.
SCENARIOS = ["bench.reads", "bench.writes", "bench.flood", "bench.console", "bench.history"]

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"  # databases, CSV files, the peer's install (git-ignored)
RESULTS = ROOT / "bench" / "results"
# The peer: ../shared/bench/peer-fastify beside the checkout (or beside an ancestor: worktrees).
PEER_SOURCE = next(
    (up / "shared" / "bench" / "peer-fastify" for up in ROOT.parents if (up / "shared" / "bench").is_dir()),
    ROOT.parent / "shared" / "bench" / "peer-fastify",
)
# Ports (this bench's range: HTTP 18600-18699, PostgreSQL 15600-15699).
PORTS = {"embedded": (18600, 18601), "tcp": (18620, 18621)}
GROWTH_PORT = 18640
GROWTH = "bench.growth"  # not a scenario: one run over every scale, on the embedded setup
TCP_POSTGRES_PORT = 15600
SETUPS = {
    "embedded": "embedded PostgreSQL 18 (wheel), unix socket",
    "tcp": "Debian postgresql-15, TCP 127.0.0.1",
}


# -- tools ----------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: apt-get install wrk")
    log("installing wrk from Debian")
    if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def ensure_peer() -> Path:
    """The peer's files copied to a writable place and its packages installed (once)."""
    target = WORK / "peer"
    if not PEER_SOURCE.exists():
        sys.exit(f"the peer is not at {PEER_SOURCE}")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("server.js", "package.json", "package-lock.json", "schema.sql", "fleet-schema.sql"):
        if not (target / name).exists() or (target / name).read_bytes() != (PEER_SOURCE / name).read_bytes():
            shutil.copy(PEER_SOURCE / name, target / name)
    if not (target / "node_modules" / "fastify").exists():
        log("npm ci for the peer")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=target, check=True, capture_output=True)
    return target


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and non-2xx/3xx answers
    output: str
    requests: int = 0
    cpu_us_per_request: float | None = None  # of the server's processes, when measured


def lua_paths(paths: list[str], headers: dict[str, str] | None = None) -> str:
    """A wrk script that sends GETs of the paths in turn (each wrk connection starts elsewhere)."""
    quoted = ",".join(json.dumps(path) for path in paths)
    header_lines = "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in (headers or {}).items())
    return f"""
local paths = {{{quoted}}}
{header_lines}
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk_command(wrk: str, base: str, script: Path, *, seconds: float, connections: int) -> list[str]:
    duration = f"-d{max(1, round(seconds))}s"
    return [wrk, "-t1", f"-c{connections}", duration, "--timeout", "30s", "--latency", "-s", str(script), base]


def parse_wrk(out: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = re.search(r"(\d+) requests in", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return WrkResult(rps, p50, p99, errors, out, int(requests.group(1)) if requests else 0)


def run_wrk(wrk: str, base: str, script: str, *, seconds: float, connections: int) -> WrkResult:
    path = WORK / f"wrk-{os.getpid()}.lua"
    path.write_text(script)
    command = wrk_command(wrk, base, path, seconds=seconds, connections=connections)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return parse_wrk(result.stdout)


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


# -- servers --------------------------------------------------------------------------------------------


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            sys.exit(f"{proc.args!r} exited ({proc.returncode}):\n{stderr[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit(f"{url} did not come up")


@contextmanager
def process(
    command: list[str], *, env: dict[str, str], up: str, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(up, proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peer_process(loaded: Loaded, peer_dir: Path, server: postgres.Server, port: int) -> Any:
    """The peer on the peer's database: node-postgres reads the password from PGPASSFILE."""
    url = re.sub(r"[?&]passfile=[^&]*", "", loaded.peer_url).replace("/?", "?").rstrip("?")
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "PGPASSFILE": str(server.password_file)}
    base = f"http://127.0.0.1:{port}"
    return process(["node", "server.js"], env=env, cwd=peer_dir, up=f"{base}/v2/customers/connectors?limit=0")


def fleetreg_process(url: str, port: int, data_dir: Path, **extra: str) -> Any:
    command = [*data.FLEETREG, "serve", "--port", str(port), "--workers", "1", "--no-migrate"]
    return process(command, env=data.fleetreg_env(url, data_dir, **extra), up=f"http://127.0.0.1:{port}/healthz")


def token_for(base: str, credentials: dict[str, Any]) -> str:
    response = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children (Granian's worker)."""
    total = 0.0
    main = psutil.Process(pid)
    for proc in [main, *main.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def tree_rss_mib(pid: int) -> dict[str, float]:
    """Resident memory of ``fleetreg serve``: Granian's main process and its worker(s)."""
    main = psutil.Process(pid)
    workers = main.children(recursive=True)
    worker_rss = [w.memory_info().rss for w in workers]
    return {
        "main": round(main.memory_info().rss / 2**20, 1),
        "worker": round(max(worker_rss, default=0) / 2**20, 1),
        "total": round((main.memory_info().rss + sum(worker_rss)) / 2**20, 1),
    }


# -- the framework the scenarios use ---------------------------------------------------------------------


@dataclass
class Setup:
    name: str
    description: str
    server_url: str
    loaded: Loaded
    peer_base: str
    fleetreg_base: str
    fleetreg_pid: int
    peer_pid: int
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Bench:
    """What a scenario gets: the setup, the options, and ways to measure and to record."""

    options: argparse.Namespace
    wrk: str
    setup: Setup
    rows: list[dict[str, Any]] = field(default_factory=list)

    # Measuring

    def run_wrk(
        self, base: str, script: str, *, connections: int | None = None, seconds: float | None = None
    ) -> WrkResult:
        return run_wrk(
            self.wrk,
            base,
            script,
            seconds=seconds or self.options.seconds,
            connections=connections or self.options.connections,
        )

    def compare(
        self,
        name: str,
        peer_paths: list[str],
        fleetreg_paths: list[str],
        *,
        target: float | None,
        aim: float | None = None,
        connections: int | None = None,
    ) -> dict[str, Any]:
        """The same GETs against both servers, wrk in alternation (the order swapped every round):
        ratio = median req/s of fleetreg / median req/s of the peer. fleetreg's requests carry the
        bench client's bearer token. Without peer paths, fleetreg's figures are reported alone."""
        scripts = {"peer": lua_paths(peer_paths), "fleetreg": lua_paths(fleetreg_paths, self.setup.auth)}
        bases = {"peer": self.setup.peer_base, "fleetreg": self.setup.fleetreg_base}
        pids = {"peer": self.setup.peer_pid, "fleetreg": self.setup.fleetreg_pid}
        sides = ["peer", "fleetreg"] if peer_paths else ["fleetreg"]
        measured: dict[str, list[WrkResult]] = {side: [] for side in sides}
        for round_number in range(self.options.rounds):
            for side in sides if round_number % 2 == 0 else list(reversed(sides)):
                cpu_before = tree_cpu_seconds(pids[side])
                result = self.run_wrk(bases[side], scripts[side], connections=connections)
                if result.requests:
                    result.cpu_us_per_request = (tree_cpu_seconds(pids[side]) - cpu_before) / result.requests * 1e6
                measured[side].append(result)
                log(
                    f"[{self.setup.name}] {name:<44} {side:<8} round {round_number + 1}: "
                    f"{result.rps:10.1f} req/s  p50 {result.p50_ms:7.2f} ms  errors {result.errors}  "
                    f"CPU {result.cpu_us_per_request or 0:6.0f} us/request"
                )
        medians = {side: statistics.median(r.rps for r in results) for side, results in measured.items()}
        errors = {side: sum(r.errors for r in results) for side, results in measured.items()}
        row = {
            "name": name,
            "unit": "req/s",
            "peer": medians.get("peer"),
            "fleetreg": medians["fleetreg"],
            "ratio": _ratio(medians["fleetreg"], medians["peer"]) if "peer" in medians else None,
            "target": target if "peer" in medians else None,
            "aim": aim,
            "errors": errors,
            "runs": {side: [r.rps for r in results] for side, results in measured.items()},
            "p50_ms": {side: statistics.median(r.p50_ms for r in results) for side, results in measured.items()},
            # CPU of the server's own processes per request: steadier than req/s on a busy machine
            "cpu_us_per_request": {
                side: statistics.median(r.cpu_us_per_request or 0 for r in results)
                for side, results in measured.items()
            },
        }
        if not peer_paths:
            row["note"] = "no peer route: reported, not judged"
        elif medians["peer"] == 0:
            row["note"] = "the peer answered no request within a round (at 10M its count takes seconds)"
        self.rows.append(row)
        return row

    def record(self, row: dict[str, Any]) -> None:
        """A figure measured another way: name, unit, peer, fleetreg, ratio, target (None: reported)."""
        self.rows.append({"errors": {}, "aim": None, **row})

    def check(self, name: str, value: float | None, limit: float, *, unit: str, below: bool = True) -> None:
        """A fleetreg figure against an absolute limit (below it, or at least it)."""
        met = value is not None and (value < limit if below else value >= limit)
        self.rows.append({"name": name, "unit": unit, "value": value, "limit": limit, "below": below, "met": met})

    # Looking up

    def peer_sql(self, query: str) -> list[str]:
        return data.sample(self.setup.loaded.peer_url, query)

    def fleetreg_sql(self, query: str) -> list[str]:
        return data.sample(self.setup.loaded.fleetreg_url, query)

    def rss_mib(self) -> dict[str, float]:
        return tree_rss_mib(self.setup.fleetreg_pid)


def met(row: dict[str, Any]) -> bool | None:
    """Whether a row meets its target; None when it has none (reported only)."""
    if "limit" in row:
        return bool(row["met"])
    if row.get("target") is None or row.get("ratio") is None:
        return None
    reached = row["ratio"] <= row["target"] if row.get("at_most") else row["ratio"] >= row["target"]
    return bool(reached and not row["errors"].get("fleetreg"))


# -- the run --------------------------------------------------------------------------------------------


def parse_options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1: 1M connectors ...; 10: 10M (issue 19)")
    parser.add_argument("--quick", action="store_true", help="small data (scale 0.05), short rounds: minutes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--setups", default="embedded,tcp", help="comma-separated: embedded, tcp")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenario modules (e.g. bench.reads; bench.growth for the growth table) to run",
    )
    parser.add_argument("--no-growth", action="store_true", help="skip the growth table")
    parser.add_argument("--reload", action="store_true", help="drop the loaded databases and load them again")
    options = parser.parse_args(argv)
    if options.quick:
        options.scale = min(options.scale, 0.05)
        options.rounds = min(options.rounds, 2)
        options.seconds = min(options.seconds, 2)
    return options


def make_server(name: str) -> postgres.Server:
    if name == "embedded":
        return postgres.embedded(WORK / "embedded" / "postgres")
    if name == "tcp":
        return postgres.TcpPostgres(WORK / "tcp" / "postgres", TCP_POSTGRES_PORT)
    sys.exit(f"unknown setup {name!r}: embedded or tcp")


def only(options: argparse.Namespace) -> list[str]:
    return [name for name in options.only.split(",") if name]


def scenarios(options: argparse.Namespace) -> list[tuple[str, Callable[[Bench], None]]]:
    chosen = [name for name in only(options) if name != GROWTH] if only(options) else SCENARIOS
    return [(name, importlib.import_module(name).scenario) for name in chosen]


def wants_growth(options: argparse.Namespace) -> bool:
    """The growth table runs unless skipped; with ``--only``, when ``bench.growth`` is named."""
    return not options.no_growth and (not only(options) or GROWTH in only(options))


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    wrk = ensure_wrk()
    peer_dir = ensure_peer()
    scale = Scale(options.scale)
    report: dict[str, Any] = {
        "options": vars(options),
        "scale": scale.describe(),
        "machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()},
        "setups": {},
    }
    started = time.monotonic()
    for setup_name in [name for name in options.setups.split(",") if name]:
        server = make_server(setup_name)
        work = WORK / setup_name
        if options.reload:
            server.stop()
            shutil.rmtree(work, ignore_errors=True)
        server_url = server.start()
        try:
            report["setups"][setup_name] = run_setup(options, wrk, peer_dir, setup_name, server, server_url, scale)
            if setup_name == "embedded" and wants_growth(options):
                from bench import growth

                report["growth"] = growth.run(options, wrk, server_url, work, peer_dir, scale)
        finally:
            server.stop()
    report["machine"]["load_after"] = os.getloadavg()
    report["seconds"] = round(time.monotonic() - started)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2))
    print(render(report))


def run_setup(
    options: argparse.Namespace,
    wrk: str,
    peer_dir: Path,
    name: str,
    server: postgres.Server,
    server_url: str,
    scale: Scale,
) -> dict[str, Any]:
    work = WORK / name
    loaded = data.load(server_url, work, peer_dir, scale)
    import_seconds = data.time_import(server_url, work, scale)
    log(f"[{name}] fleetreg import of {scale.connectors:,} connectors into a new database: {import_seconds} s")
    peer_port, fleetreg_port = PORTS[name]
    with ExitStack() as stack:
        peer = stack.enter_context(peer_process(loaded, peer_dir, server, peer_port))
        fleetreg = stack.enter_context(fleetreg_process(loaded.fleetreg_url, fleetreg_port, work / "fleetreg-data"))
        fleetreg_base = f"http://127.0.0.1:{fleetreg_port}"
        setup = Setup(
            name=name,
            description=SETUPS[name],
            server_url=server_url,
            loaded=loaded,
            peer_base=f"http://127.0.0.1:{peer_port}",
            fleetreg_base=fleetreg_base,
            fleetreg_pid=fleetreg.pid,
            peer_pid=peer.pid,
            token=token_for(fleetreg_base, loaded.credentials),
        )
        bench = Bench(options, wrk, setup)
        limit = 30.0 if scale.factor <= 1 else 15 * scale.factor  # issue 13: 30 s at 1M; issue 19: 150 s at 10M
        bench.check(f"fleetreg import of {scale.connectors:,} connectors (s)", import_seconds, limit, unit="s")
        rss: dict[str, dict[str, float]] = {"start": bench.rss_mib()}
        checked = False
        for module, scenario in scenarios(options):
            if module == "bench.flood":  # the floods have a memory check of their own
                check_rss(bench, rss)
                checked = True
            scenario(bench)
            rss[module] = bench.rss_mib()
        if not checked:
            check_rss(bench, rss)
        return {"description": SETUPS[name], "rows": bench.rows, "rss_mib": rss}


def check_rss(bench: Bench, rss: dict[str, dict[str, float]]) -> None:
    worker = max(figures["worker"] for figures in rss.values())
    bench.check("RSS of the fleetreg serve worker, largest before any flood (MiB)", worker, 150, unit="MiB")


def render(report: dict[str, Any]) -> str:
    lines = [f"Data: {report['scale']}. Machine: {report['machine']}.", ""]
    verdicts: list[tuple[str, bool]] = []
    for setup_name, section in report["setups"].items():
        lines += [
            f"## {setup_name}: {section['description']}",
            "",
            "| target | peer | fleetreg | ratio | target | met | CPU µs/request peer, fleetreg |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for row in section["rows"]:
            verdict = met(row)
            if verdict is not None:
                verdicts.append((f"{row['name']} [{setup_name}]", verdict))
            shown = {None: "(reported)", True: "yes", False: "NO"}[verdict]
            if "limit" in row:
                relation = "<" if row["below"] else ">="
                limit = f"{relation} {row['limit']:g} {row['unit']}"
                lines.append(f"| {row['name']} | | {row['value']} | | {limit} | {shown} | |")
                continue
            errors = {side: n for side, n in row.get("errors", {}).items() if n}
            if errors:
                shown += f" (errors {errors})"
            if row.get("note"):
                shown += f" ({row['note']})"
            aim = f" (aim {row['aim']:g})" if row.get("aim") else ""
            relation = "<=" if row.get("at_most") else ">="
            target = f"{relation} {row['target']:g}{aim}" if row.get("target") is not None else "-"
            ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else "-"
            cpu = row.get("cpu_us_per_request", {})
            cpu_shown = ", ".join(f"{cpu[side]:.0f}" for side in ("peer", "fleetreg") if cpu.get(side))
            lines.append(
                f"| {row['name']} | {_figure(row.get('peer'), row['unit'])} | {_figure(row['fleetreg'], row['unit'])} "
                f"| {ratio} | {target} | {shown} | {cpu_shown} |"
            )
        lines.append("")
    if "growth" in report:
        from bench import growth

        growth_lines, growth_verdicts = growth.render(report["growth"])
        lines += growth_lines
        verdicts += growth_verdicts
    unmet = [name for name, ok in verdicts if not ok]
    summary = f"VERDICT: {len(verdicts) - len(unmet)} of {len(verdicts)} targets met"
    lines.append(summary + ("; EVERY TARGET MET" if not unmet else "; NOT MET: " + "; ".join(unmet)))
    return "\n".join(lines)


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f} {unit}" if unit != "req/s" else f"{value:,.0f}"


def _ratio(ours: float, peers: float) -> float:
    """fleetreg's rate over the peer's; infinite when only fleetreg answered within the rounds."""
    return ours / peers if peers else math.inf


if __name__ == "__main__":
    main()
