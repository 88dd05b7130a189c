"""A real one-node Slurm cluster (Debian's slurm-wlm and munge) for the integration tests, in a private folder.

Everything lives under `root`: the munge key and socket, slurm.conf (this host as the only node, no cgroups:
proctrack/linuxproc, task/none), the controller's state and the node's spool. The daemons run in the foreground
as child processes; `stop` ends exactly those. Clients find the cluster through `SLURM_CONF`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "sacct", "scontrol")


def missing_reason() -> str | None:
    """Why a real Slurm cannot start here, or None when it can."""
    absent = [name for name in (*DAEMONS, *CLIENTS[:3], "mungekey") if shutil.which(name) is None]
    if absent:
        return f"slurm-wlm and munge are not installed (missing {', '.join(absent)}); .ci/run installs them as root"
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd needs root (SlurmUser=root, jobs of any user); CI runs as root"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory_mb() -> int:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(pages // (1024 * 1024))


@dataclass
class SlurmCluster:
    root: Path
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def _write_config(self) -> None:
        for folder in ("state", "spool", "log", "munge"):
            (self.root / folder).mkdir(parents=True, exist_ok=True, mode=0o700)
        key = self.root / "munge" / "munge.key"
        subprocess.run(["mungekey", "--create", "--force", f"--keyfile={key}"], check=True, capture_output=True)
        key.chmod(0o400)
        cpus = os.cpu_count() or 1
        lines = [
            "ClusterName=motiflens-test",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.root / 'munge' / 'munge.socket'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_CPU",
            "SchedulerType=sched/backfill",
            "MpiDefault=none",
            "ReturnToService=2",
            "SlurmdParameters=config_overrides",
            f"StateSaveLocation={self.root / 'state'}",
            f"SlurmdSpoolDir={self.root / 'spool'}",
            f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.root / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.root / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={self.root / 'log' / 'slurmd.log'}",
            "JobCompType=jobcomp/none",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "InactiveLimit=0",
            "KillWait=5",
            "MinJobAge=300",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_memory_mb() - 512} State=UNKNOWN",
            "PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _spawn(self, *command: str) -> None:
        log = (self.root / "log" / f"{Path(command[0]).name}.out").open("ab")
        self.processes.append(
            subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        )
        log.close()

    def start(self, timeout_seconds: float = 30.0) -> None:
        self._write_config()
        munge = self.root / "munge"
        self._spawn(
            "munged", "--foreground", "--force", f"--key-file={munge / 'munge.key'}",
            f"--socket={munge / 'munge.socket'}", f"--pid-file={munge / 'munged.pid'}",
            f"--log-file={munge / 'munged.log'}", f"--seed-file={munge / 'munged.seed'}",
        )
        self._wait(lambda: (munge / "munge.socket").exists(), timeout_seconds, "munged")
        self._spawn("slurmctld", "-D", "-i", "-f", str(self.conf))
        self._spawn("slurmd", "-D", "-N", self.node, "-f", str(self.conf))
        self._wait(self._node_idle, timeout_seconds, "the node to come up idle")

    def _node_idle(self) -> bool:
        result = subprocess.run(
            ["sinfo", "--noheader", "--nodes", self.node, "--format", "%T"],
            env=self.env, capture_output=True, text=True, check=False,
        )
        return result.returncode == 0 and result.stdout.strip() == "idle"

    def _wait(self, ready: Callable[[], bool], timeout_seconds: float, what: str) -> None:
        deadline = time.monotonic() + timeout_seconds
        while not ready():
            dead = [process.args[0] for process in self.processes if process.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"Slurm did not start ({what}; exited: {dead}):\n{self.logs()}")
            time.sleep(0.2)

    def logs(self) -> str:
        """The tails of the daemons' logs, for failure messages."""
        files = sorted(self.root.rglob("*.log")) + sorted(self.root.glob("log/*.out"))
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in files)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
