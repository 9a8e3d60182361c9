"""A small client for Airflow 3's REST API (`/api/v2`, JWT from `/auth/token`)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

TERMINAL_RUN_STATES = frozenset({"success", "failed"})


class AirflowApiError(RuntimeError):
    """A REST call answered with an error status; the message carries method, path and body."""


class AirflowApi:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        """A client holding a JWT for this user (SimpleAuthManager's POST /auth/token)."""
        api = cls(base_url)
        answer = api.call("POST", "/auth/token", {"username": username, "password": password})
        return cls(base_url, answer["access_token"])

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise AirflowApiError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:500]!r}") from None
        return json.loads(raw) if raw else None

    def health(self) -> dict:
        return self.call("GET", "/api/v2/monitor/health")

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.call("GET", "/api/v2/dags?limit=100")["dags"]}

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        """A manual run now; returns its run id."""
        run = self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        items = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
        return {t["task_id"] + (f"[{t['map_index']}]" if t["map_index"] >= 0 else ""): t["state"] for t in items}

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict:
        """Poll until the run is success or failed; returns it (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in TERMINAL_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(1)
