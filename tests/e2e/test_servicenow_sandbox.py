"""`textdesk servicenow-sandbox`: a stand-in instance a newcomer can point textdesk at."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
from benchmarks.children import TEXTDESK, free_port, stop


def test_the_sandbox_serves_the_demo_people_with_the_settings_it_prints(tmp_path: Path) -> None:
    """The printed URL and credentials reach the Table API, which has the demo's users."""
    port = free_port()
    log = tmp_path / "sandbox.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTDESK_", "SERVICENOW_"))}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [TEXTDESK, "servicenow-sandbox", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a deadline for a hung start, not a speed check
        printed: dict[str, str] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            printed = dict(re.findall(r"^\s+([A-Z_]+)=(\S+)$", log.read_text(), re.M))
            try:
                if printed and httpx.get(url, timeout=1).status_code:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert printed["TEXTDESK_RECORDS"] == "servicenow"
        assert printed["SERVICENOW_INSTANCE_URL"] == url
        users = httpx.get(
            f"{url}/api/now/table/sys_user",
            params={
                "sysparm_query": "active=true^mobile_phoneISNOTEMPTY",
                "sysparm_fields": "name",
            },
            auth=(printed["SERVICENOW_USERNAME"], printed["SERVICENOW_PASSWORD"]),
            timeout=10,
        )
        assert users.status_code == 200
        assert "Alice Example" in {u["name"] for u in users.json()["result"]}
        refused = httpx.get(f"{url}/api/now/table/sys_user", auth=("nobody", "wrong"), timeout=10)
        assert refused.status_code == 401
    finally:
        stop(proc, grace=10)
