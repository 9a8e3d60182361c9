"""A real Airflow api-server for the UI tests, screenshots and bench: private AIRFLOW_HOME (SQLite
metadata), this repo's dags/ and plugins/, SimpleAuthManager with known users, a free port.

    with api_server(tmp_path / "airflow") as server:
        token = server.token("ui_admin")
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from trend_dev.local_airflow import VENV_BIN, prepare_airflow_home

SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
DEFAULT_USERS = {"ui_admin": "admin", "ui_viewer": "viewer"}  # username -> role


class ApiServerFailed(RuntimeError):
    """The api-server exited or never answered; carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ApiServer:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    home: Path
    env: dict[str, str]
    passwords: dict[str, str] = field(repr=False, default_factory=dict)
    log_path: Path | None = None

    def token(self, username: str) -> str:
        """A JWT from Airflow's own /auth/token endpoint."""
        response = requests.post(
            f"{self.url}/auth/token",
            json={"username": username, "password": self.passwords[username]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path and self.log_path.exists() else ""


def _auth_env(home: Path, users: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    passwords = {name: secrets.token_urlsafe(12) for name in users}
    password_file = home / "simple_auth_manager_passwords.json"
    password_file.write_text(json.dumps(passwords))
    env = {
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{n}:{r}" for n, r in users.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(password_file),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
    }
    return env, passwords


def _wait_ready(proc: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ApiServerFailed(f"api-server exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise ApiServerFailed(f"api-server did not answer within {timeout:.0f}s:\n{log_path.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the process group this module started (the server and its worker)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@contextmanager
def api_server(
    home: Path | str,
    users: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    start_timeout: float = 120,
) -> Iterator[ApiServer]:
    """Migrate a metadata DB under ``home``, start ``airflow api-server`` on a free port, stop it after."""
    home = Path(home)
    env = prepare_airflow_home(home)
    auth, passwords = _auth_env(home, users or DEFAULT_USERS)
    env.update(auth)
    env.update(extra_env or {})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = home / "api-server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so _stop ends the worker too
        )
    try:
        _wait_ready(proc, url, log_path, start_timeout)
        yield ApiServer(url, home, env, passwords, log_path)
    finally:
        _stop(proc)
