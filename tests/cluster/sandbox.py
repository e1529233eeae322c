"""A machine of its own for cluster tests: Linux PID, network and mount namespaces.

`ray up`, `ray down` and an sbatch script run `ray stop`, which stops every Ray process of the
user on the machine, and `ray start --head` takes fixed ports (6379, 8265). Inside the sandbox
they see only the sandbox's processes, its own loopback interface, its own /tmp/ray and /etc/hosts and a
home of their own for root (an /etc/passwd of the sandbox points it there), so a test can run the users' exact commands without touching anything else that runs
here, and killing the sandbox's first process ends everything started inside it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent  # ray, junkdna and python of the environment under test


def require(*tools: str) -> None:
    """Skip, in one line naming what is missing, where the sandbox cannot be made."""
    missing = [t for t in tools if shutil.which(t) is None and not Path(t).exists()]
    if os.geteuid() != 0:
        missing.append("root (for Linux namespaces)")
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


# process 1 of a PID namespace inherits every orphan (Ray daemonizes): it must reap them, or
# `ray stop` waits out its grace period on their zombies
REAPER = (
    f"{sys.executable} -c 'import os, time\nwhile True:\n"
    f"    try: os.wait()\n    except ChildProcessError: time.sleep(0.2)'"
)


class Sandbox:
    """Run `first` as process 1 of new PID/network/mount namespaces; `run` more inside them."""

    def __init__(self, home: Path, first: str = REAPER):
        self.home = home
        (home / "ray-tmp").mkdir(parents=True, exist_ok=True)
        (home / ".bashrc").write_text(f"export PATH={VENV_BIN}:$PATH\n")  # what SSH logins get
        users = [line.split(":") for line in Path("/etc/passwd").read_text().splitlines()]
        users = [u[:5] + [str(home)] + u[6:] if u[0] == "root" else u for u in users]
        (home / "passwd").write_text("".join(":".join(u) + "\n" for u in users))
        # its only interface is loopback: its own name resolves there
        (home / "hosts").write_text(f"127.0.0.1 localhost {socket.gethostname()}\n")
        binds = {"passwd": "/etc/passwd", "hosts": "/etc/hosts", "ray-tmp": "/tmp/ray"}
        setup = (
            "ip link set lo up && mkdir -p /tmp/ray /run/sshd"
            + "".join(f" && mount --bind {home}/{src} {dst}" for src, dst in binds.items())
            + f" && exec {first}"
        )
        self.process = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--net", "--mount", "--mount-proc", "sh", "-c", setup],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pid = self._first_process()

    def _first_process(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        for _ in range(100):
            found = children.read_text().split() if children.exists() else []
            if found and Path(f"/proc/{found[0]}/exe").resolve().name != "unshare":
                time.sleep(0.5)  # let `first` bind what it binds
                return int(found[0])
            time.sleep(0.05)
        raise RuntimeError("the sandbox did not start")

    def run(self, command: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
        """Run a bash command inside, from the repository root; its output, or fail with it."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        script = (
            f"cd {REPO} && export HOME={self.home} PATH={VENV_BIN}:$PATH {exports} && {command}"
        )
        done = subprocess.run(
            ["nsenter", "-t", str(self.pid), "--pid", "--net", "--mount", "bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = done.stdout + done.stderr
        if done.returncode:
            pytest.fail(f"`{command}` exited {done.returncode}:\n{output[-4000:]}")
        return output

    def processes(self) -> str:
        """The command lines of the sandbox's live processes (not the zombies process 1 keeps)."""
        return self.run("ps -e -o stat=,args= | grep -v '^Z'")

    def close(self) -> None:
        """End every process of the sandbox (killing process 1 of a PID namespace does that)."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
