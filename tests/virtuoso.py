"""A real Virtuoso server for the tests: started as a plain process, stopped by its PID.

Nothing is installed here. ``.ci/run`` installs Debian's ``virtuoso-opensource``; on a
machine without it, :func:`virtuoso_missing` says so and how to install it, and the
remote tests skip with that message.

Each server gets its own database directory and an ini that binds both the SQL port
(for ``isql-vt``) and the HTTP port to 127.0.0.1 on free ports, so servers never
collide with each other or with a system-wide Virtuoso. Anonymous SPARQL updates are
granted through ``isql-vt`` once the server answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["INSTALL_HINT", "VirtuosoServer", "virtuoso_missing", "free_port"]

INSTALL_HINT = (
    "Virtuoso is not installed; the remote-store tests need it. Install it with: "
    "echo 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba' | debconf-set-selections; "
    "echo 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba' | debconf-set-selections; "
    "apt-get install -y --no-install-recommends virtuoso-opensource   (.ci/run does this)"
)
_START_TIMEOUT = 90.0
DBA_PASSWORD = "dba"

_INI = """\
[Database]
DatabaseFile       = {db}/virtuoso.db
ErrorLogFile       = {db}/virtuoso.log
LockFile           = {db}/virtuoso.lck
TransactionFile    = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {db}/virtuoso-temp.db
TransactionFile    = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 10
CheckpointInterval       = 60
CaseMode                 = 2
DirsAllowed              = ., {db}
NumberOfBuffers          = {buffers}
MaxDirtyBuffers          = {dirty_buffers}
MaxQueryMem              = 1G
TransactionAfterImageLimit = {after_image}
ThreadsPerQuery          = 2

[HTTPServer]
ServerPort               = 127.0.0.1:{http_port}
ServerRoot               = {db}/vsp
MaxClientConnections     = 10
ServerThreads            = 10
MaxKeepAlives            = 10
KeepAliveTimeout         = 10
Charset                  = UTF-8
EnabledGzipContent       = 0

[SPARQL]
ResultSetMaxRows           = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime      = {max_seconds}
DeferInferenceRulesInit    = 0
"""


def virtuoso_missing() -> str | None:
    """Why a Virtuoso server cannot be started here, or None when it can."""
    for program in ("virtuoso-t", "isql-vt"):
        if shutil.which(program) is None:
            return f"{program} not found. {INSTALL_HINT}"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class VirtuosoServer:
    """One Virtuoso process with its own database directory.

    >>> server = VirtuosoServer(tmp_dir).start()   # doctest: +SKIP
    >>> server.sparql_url                          # doctest: +SKIP
    'http://127.0.0.1:40123/sparql'
    >>> server.stop()                              # doctest: +SKIP
    """

    directory: Path
    #: ResultSetMaxRows: the server truncates SELECT/CONSTRUCT results at this many rows
    max_rows: int = 10_000
    #: MaxQueryExecutionTime in seconds
    max_seconds: int = 60
    #: 8 KiB pages of cache; the Debian default of 10 000 suits the tests
    buffers: int = 10_000
    #: bytes one transaction may change (Virtuoso's default 50 MB holds a few 100 000 triples)
    after_image: int = 50_000_000
    sql_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        return f"{self.base_url}/sparql"

    @property
    def graph_store_url(self) -> str:
        return f"{self.base_url}/sparql-graph-crud"

    @property
    def log(self) -> Path:
        return self.directory / "virtuoso.log"

    def start(self) -> "VirtuosoServer":
        """Write the ini, start the server, wait until it answers and (on a new database) grant anonymous updates.

        Starting again after :meth:`stop` or :meth:`kill` reopens the same database, as a restart would."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "vsp").mkdir(exist_ok=True)
        ini = self.directory / "virtuoso.ini"
        ini.write_text(_INI.format(
            db=self.directory, sql_port=self.sql_port, http_port=self.http_port, max_rows=self.max_rows,
            max_seconds=self.max_seconds, buffers=self.buffers, after_image=self.after_image, dirty_buffers=self.buffers * 3 // 4,
        ), encoding="utf-8")
        fresh = not (self.directory / "virtuoso.db").exists()
        self.process = subprocess.Popen(
            ["virtuoso-t", "+foreground", "+configfile", str(ini)],
            cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self._wait_until_ready()
        if fresh:
            self._grant()
        return self

    def _grant(self) -> None:
        """Let anonymous clients of /sparql update, as the remote store's writes need."""
        self.isql('GRANT SPARQL_UPDATE TO "SPARQL";', 'GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO "SPARQL";',
                  'GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO "SPARQL";',
                  "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}; see {self.log}")
            try:
                response = httpx.get(self.sparql_url, params={"query": "ASK {}"}, timeout=2.0)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Virtuoso did not answer within {_START_TIMEOUT:.0f} s; see {self.log}")

    def isql(self, *statements: str) -> str:
        """Run SQL statements through ``isql-vt`` as the DBA; the output, or RuntimeError."""
        script = "\n".join(statements)
        done = subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", DBA_PASSWORD, f"exec={script}"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql-vt failed: {done.stdout}{done.stderr}")
        return done.stdout

    def stop(self) -> None:
        """Shut down through SQL, then SIGTERM (and finally SIGKILL) the process by its PID."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            subprocess.run(["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", DBA_PASSWORD, "exec=shutdown;"],
                           capture_output=True, timeout=30, check=False)
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=15)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
