"""Driving load from a second process: wrk, parsed into requests/s and latency percentiles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

#: Sent by the load and by the sign-in alike, as one browser would.
USER_AGENT = "sentro-bench/1"

LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
"""

#: A script that cycles through prepared requests read from a file (one a line: method, path,
#: body, then header names and values, tab-separated), so that every request of a write row
#: is a different change (another person, or the other of two values).
CYCLE_LUA = """
local requests = {{}}
for line in io.lines({path}) do
  local f = {{}}
  for part in (line .. "\\t"):gmatch("([^\\t]*)\\t") do f[#f + 1] = part end
  local headers = {{}}
  for i = 4, #f - 1, 2 do headers[f[i]] = f[i + 1] end
  requests[#requests + 1] = wrk.format(f[1], f[2], headers, f[3])
end
local n = 0
request = function()
  n = n + 1
  return requests[(n - 1) % #requests + 1]
end
"""


@dataclass
class Result:
    """What one wrk run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    bad: int = 0  # responses that were not 2xx/3xx
    requests: int = 0


@dataclass
class Request:
    """One prepared HTTP request of a cycling load."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] | None = None


def have_wrk() -> bool:
    """Whether wrk (Debian package `wrk`) is installed."""
    return shutil.which("wrk") is not None


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run(
    url: str,
    *,
    seconds: int,
    connections: int = 8,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    cycle: list[Request] | None = None,
) -> Result:
    """Load `url` for `seconds` with wrk and return the figures.

    With `cycle`, wrk sends those requests in turn (paths relative to `url`'s host) instead.
    """
    # JSON strings of ASCII text are valid Lua strings.
    headers = {"User-Agent": USER_AGENT, **(headers or {})}
    lines = [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script = LUA.format(method=json.dumps(method), body=json.dumps(body), headers="\n".join(lines))
    if cycle:
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as table:
            for r in cycle:
                each = {"User-Agent": USER_AGENT, **(r.headers or {})}
                fields = [r.method, r.path, r.body, *(x for kv in each.items() for x in kv)]
                assert not any("\t" in f or "\n" in f for f in fields), fields
                table.write("\t".join(fields) + "\n")
        script = CYCLE_LUA.format(path=json.dumps(table.name))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    percentile = dict(
        (p, _ms(v, u)) for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    )
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return Result(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=percentile.get("50", 0.0),
        p99_ms=percentile.get("99", 0.0),
        bad=int(bad.group(1)) if bad else 0,
        requests=int(total.group(1)) if total else 0,
    )
