"""A real local Airflow on this machine: api-server, scheduler, dag-processor, triggerer (LocalExecutor).

``make airflow`` / ``make airflow-stop`` (state under ``var/airflow``) and the real-scheduler
end-to-end test (a private folder, free port, private metadata database) both use it.

- metadata: the local PostgreSQL when one answers (role + database created idempotently), else
  SQLite (``airflow_metadata.choose``);
- connections: the environment (``AIRFLOW_CONN_*`` you exported win), MySQL from ``MYSQL_URL``,
  ``spark_default`` local; an Astro-format settings file (``AIRFLOW_SETTINGS``) adds connections,
  variables and pools;
- every process runs in its own session; its pid is in ``run/<component>.pid``; ``stop`` ends the
  process groups, then anything else still running with this stack's AIRFLOW_HOME.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from trend.config import REPO_ROOT
from trend_dev.airflow_api import AirflowApi
from trend_dev.airflow_metadata import Metadata
from trend_dev.local_airflow import VENV_BIN, airflow_env

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"


class StackError(RuntimeError):
    """The stack could not start (the message names the component and its log)."""


@dataclass(frozen=True)
class StackDirs:
    root: Path

    @property
    def home(self) -> Path:  # AIRFLOW_HOME
        return self.root / "home"

    @property
    def run(self) -> Path:  # pid files and stack.json
        return self.root / "run"

    @property
    def logs(self) -> Path:  # one log per component
        return self.root / "logs"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"

    def create(self) -> None:
        for path in (self.home, self.run, self.logs):
            path.mkdir(parents=True, exist_ok=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


def settings_env(path: Path) -> dict[str, str]:
    """AIRFLOW_CONN_* / AIRFLOW_VAR_* for the connections and variables of an Astro settings file."""
    import yaml

    doc = (yaml.safe_load(Path(path).read_text()) or {}).get("airflow") or {}
    env = {}
    for c in doc.get("connections") or []:
        conn = {
            "conn_type": c.get("conn_type"),
            "host": c.get("conn_host"),
            "port": c.get("conn_port"),
            "login": c.get("conn_login"),
            "password": c.get("conn_password"),
            "schema": c.get("conn_schema"),
            "extra": c.get("conn_extra"),
        }
        env[f"AIRFLOW_CONN_{c['conn_id'].upper()}"] = json.dumps({k: v for k, v in conn.items() if v is not None})
    for v in doc.get("variables") or []:
        value = v["variable_value"]
        env[f"AIRFLOW_VAR_{v['variable_name'].upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def stack_env(
    dirs: StackDirs, port: int, metadata: Metadata, settings: Path | None = None, all_admins: bool = False
) -> dict[str, str]:
    """The environment every component (and every task it runs) gets."""
    env = airflow_env(dirs.home)  # os.environ + AIRFLOW_HOME, dags/, plugins/, MySQL and Spark connections
    if settings:
        exported = {k for k in os.environ if k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
        env.update({k: v for k, v in settings_env(settings).items() if k not in exported})
    base_url = f"http://127.0.0.1:{port}"
    env.setdefault("TP_PY_FILES_DIR", str(dirs.root / "pyfiles"))  # this stack's Spark payload, not /tmp's
    env.update(
        {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",  # a laptop-sized stack (each task is a Python process)
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            # log servers of the scheduler's workers and the triggerer: private ports, so stacks can coexist
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": str(all_admins),
        }
    )
    return env


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, start time) from /proc/PID/stat; None when there is no such process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return fields[0], int(fields[2]), int(fields[19])


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _home_of(pid: int) -> str | None:
    # Processes that set their title (the api-server) overwrite their environ: they are found by group.
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in raw.split(b"\0"):
        if item.startswith(b"AIRFLOW_HOME="):
            return item.split(b"=", 1)[1].decode(errors="replace")
    return None


def _components(dirs: StackDirs) -> dict[str, int]:
    """component -> pid, for pid files whose process is still the one launched (same start time)."""
    found = {}
    for component in COMPONENTS:
        try:
            pid, started = (int(x) for x in dirs.pid_file(component).read_text().split())
        except (OSError, ValueError):
            continue
        stat = _stat(pid)
        if stat is not None and stat[2] == started:
            found[component] = pid
    return found


def stack_pids(dirs: StackDirs) -> list[int]:
    """Every live process of this stack: the components' process groups (executor workers, tasks,
    spark-submit, log servers) and anything else running with this stack's AIRFLOW_HOME."""
    groups = set(_components(dirs).values())
    mine = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        stat = _stat(pid)
        if stat is None or stat[0] == "Z":
            continue
        if stat[1] in groups or _home_of(pid) == str(dirs.home):
            mine.append(pid)
    return sorted(mine)


def _launch(dirs: StackDirs, env: dict[str, str], component: str, port: int) -> int:
    args = [str(VENV_BIN / "airflow"), component]
    if component == "api-server":
        args += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with open(dirs.logs / f"{component}.log", "ab") as log:
        proc = subprocess.Popen(
            args, env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    stat = _stat(proc.pid)
    dirs.pid_file(component).write_text(f"{proc.pid} {stat[2] if stat else 0}\n")  # pid + start time
    return proc.pid


def _log_tail(dirs: StackDirs, component: str, lines: int = 30) -> str:
    path = dirs.logs / f"{component}.log"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def wait_healthy(dirs: StackDirs, pids: dict[str, int], port: int, timeout: float = 240) -> None:
    """Until /api/v2/monitor/health reports every component healthy; fails fast if one exits."""
    api = AirflowApi(f"http://127.0.0.1:{port}", timeout=5)
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        for component, pid in pids.items():
            if not _alive(pid):
                raise StackError(f"airflow {component} exited; last lines of its log:\n{_log_tail(dirs, component)}")
        try:
            health = api.health()
        except OSError:
            health = {}
        statuses = [
            health.get(k, {}).get("status") for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        ]
        if health and all(s == "healthy" for s in statuses):
            return
        time.sleep(2)
    raise StackError(f"Airflow not healthy after {timeout:.0f} s: {health}; logs in {dirs.logs}")


@dataclass(frozen=True)
class Stack:
    dirs: StackDirs
    port: int
    metadata: Metadata
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def passwords_file(self) -> Path:
        return self.dirs.home / PASSWORDS_FILE

    def admin_password(self, timeout: float = 30) -> str:
        """The password SimpleAuthManager generated for the admin user (it writes it at start)."""
        deadline = time.monotonic() + timeout
        while not self.passwords_file.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        return json.loads(self.passwords_file.read_text())[ADMIN_USER]

    def api(self) -> AirflowApi:
        return AirflowApi.login(self.url, ADMIN_USER, self.admin_password())


def start(dirs: StackDirs, port: int, metadata: Metadata, env: dict[str, str], timeout: float = 240) -> Stack:
    """Migrate the metadata DB, start the four components, wait until all are healthy."""
    dirs.create()
    migrate = subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600
    )
    if migrate.returncode != 0:
        raise StackError(f"airflow db migrate failed on {metadata}:\n{migrate.stderr[-3000:]}")
    (dirs.run / "stack.json").write_text(json.dumps({"port": port, "metadata": str(metadata)}))
    pids = {}
    try:
        for component in COMPONENTS:
            pids[component] = _launch(dirs, env, component, port)
        wait_healthy(dirs, pids, port, timeout)
    except BaseException:
        stop(dirs)
        raise
    return Stack(dirs, port, metadata, env)


def stop(dirs: StackDirs, grace: float = 30) -> list[int]:
    """End every process of this stack, the api-server last (running tasks can still report to it).

    SIGTERM to each component's process group (its executor workers, tasks, spark-submit, log
    servers), then to anything else running with this stack's AIRFLOW_HOME; SIGKILL after ``grace``.
    """
    targets = set(stack_pids(dirs))
    components = _components(dirs)
    api_server = components.pop("api-server", None)
    for pid in components.values():
        _signal_group(pid, signal.SIGTERM)
    _wait_gone(lambda: [p for p in components.values() if _alive(p)], grace)
    if api_server is not None:
        _signal_group(api_server, signal.SIGTERM)
    for pid in stack_pids(dirs):
        _signal(pid, signal.SIGTERM)  # e.g. a task that started its own session
    _wait_gone(lambda: stack_pids(dirs), grace)
    for pid in stack_pids(dirs):  # what ignored SIGTERM
        _signal(pid, signal.SIGKILL)
    _wait_gone(lambda: stack_pids(dirs), 10)
    for component in COMPONENTS:
        dirs.pid_file(component).unlink(missing_ok=True)
    return sorted(targets)


def _wait_gone(alive, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        time.sleep(0.3)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # each component leads its own session/group (start_new_session)
    except ProcessLookupError:
        pass


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# --- make airflow / make airflow-stop -------------------------------------------------------------

DEFAULT_ROOT = REPO_ROOT / "var" / "airflow"
PG_NAME = "trend_airflow"  # role and database of `make airflow`'s metadata on the local PostgreSQL


def _migrate_mysql() -> None:
    from trend import schema
    from trend.db import DatabaseUnavailable

    try:
        applied = schema.migrate()
    except DatabaseUnavailable as exc:
        print(f"airflow: WARNING: MySQL schema not migrated, the DAGs' tasks will fail until it is: {exc}")
        return
    print(f"airflow: MySQL schema up to date (applied now: {applied})")


def cmd_start(root: Path, port: int, mode: str, settings: Path | None, all_admins: bool) -> int:
    from trend_dev.airflow_metadata import choose

    dirs = StackDirs(root)
    if running := stack_pids(dirs):
        port = json.loads((dirs.run / "stack.json").read_text())["port"]
        print(f"airflow: already running at http://127.0.0.1:{port} ({len(running)} processes); `make airflow-stop`")
        return 0
    if port_in_use(port):
        print(f"airflow: port {port} is in use; choose another: make airflow AIRFLOW_PORT=<port>")
        return 2
    dirs.create()
    metadata = choose(dirs.home, PG_NAME, root / "pg_password", mode)
    _migrate_mysql()
    print(f"airflow: metadata {metadata}; starting {', '.join(COMPONENTS)} (logs in {dirs.logs}) ...")
    stack = start(dirs, port, metadata, stack_env(dirs, port, metadata, settings, all_admins))
    print(f"airflow: UI at {stack.url}")
    if all_admins:
        print("airflow: login disabled (AIRFLOW_ALL_ADMINS=1): everyone is admin; for local use only")
    else:
        stack.admin_password()  # written by the api-server at start
        stack.passwords_file.chmod(0o600)  # Airflow writes it world-readable
        print(f"airflow: log in as '{ADMIN_USER}'; password in {stack.passwords_file}")
    print("airflow: DAGs start paused; unpause them in the UI. Stop everything with `make airflow-stop`.")
    return 0


def cmd_stop(root: Path) -> int:
    ended = stop(StackDirs(root))
    print(f"airflow: stopped ({len(ended)} processes ended)" if ended else "airflow: nothing was running")
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m trend_dev.airflow_stack", description=__doc__)
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="state folder (home, run, logs)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--metadata", choices=["auto", "postgres", "sqlite"], default="auto")
    parser.add_argument("--settings", type=Path, help="Astro-format connections/variables file to load")
    parser.add_argument("--all-admins", action="store_true", help="no login: everyone is admin (local use)")
    args = parser.parse_args(argv)
    if args.command == "stop":
        return cmd_stop(args.root.resolve())
    try:
        return cmd_start(args.root.resolve(), args.port, args.metadata, args.settings, args.all_admins)
    except (StackError, RuntimeError) as exc:
        print(f"airflow: {exc}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
