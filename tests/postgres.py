"""A real PostgreSQL server for the store's tests: Debian's package (`postgresql`, which
`.ci/run` installs when missing), a cluster made with `initdb` in a temporary directory and
started on a free loopback port, with trust authentication, stopped and removed at the end.

PostgreSQL refuses to run as root: as root (CI), the cluster belongs to the package's
`postgres` user and its programs run as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_socket

USER = "sne"


def binaries() -> Path | None:
    """The directory of `initdb` and `pg_ctl`: Debian's newest, else on the PATH."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    url: str
    port: int
    data: Path
    bin: Path
    run_as: str | None
    log: Path

    def _run(self, *command: str) -> None:
        subprocess.run(
            [str(self.bin / command[0]), *command[1:]],
            check=True,
            user=self.run_as,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent} "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def dump(self) -> str:
        """Every row of the database, as pg_dump writes them."""
        return subprocess.run(
            [str(self.bin / "pg_dump"), "--data-only", self.url],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    run_as = "postgres" if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="sne-gateway-pg-"))
    if run_as:
        account = pwd.getpwnam(run_as)
        os.chown(directory, account.pw_uid, account.pw_gid)
    data = directory / "data"
    holder = free_socket()
    port = holder.getsockname()[1]
    holder.close()
    server = PostgresServer(
        f"postgresql://{USER}@127.0.0.1:{port}/postgres",
        port,
        data,
        bin_dir,
        run_as,
        directory / "server.log",
    )
    try:
        server._run("initdb", "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8", "--no-sync")
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
