"""`ray up` for real: clusters/onprem.yaml with its head on 127.0.0.1 over SSH, a `noop` sweep
submitted as the README says, its rows read back with `junkdna results`, then `ray down`."""

from __future__ import annotations

import subprocess
import time

import pytest
import yaml

from orchestrator.spec import validate_spec
from tests.cluster.sandbox import REPO, Sandbox, require

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.ci]  # 75–105 s on 2 busy CPUs


def sweep(storage: str) -> dict:
    return {"name": "up", "storage": storage, "models": ["minilm"], "noop": True,
            "tasks": ["builtin/polarity-easy", "builtin/polarity-hard"], "sparsities": [0.5, 0.9],
            "transfer": ["dense", "sparse"], "seeds": [1, 2]}  # fmt: skip


@pytest.fixture
def head(tmp_path):
    """An SSH server for root on 127.0.0.1 of a sandbox, accepting a key generated here."""
    require("/usr/sbin/sshd", "ssh", "ssh-keygen", "rsync", "unshare", "nsenter", "ip")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    for path in (key, home / "host_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    (home / ".ssh" / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    (home / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nHostKey {home}/host_key\nPermitRootLogin prohibit-password\n"
        "AuthorizedKeysFile .ssh/authorized_keys\nStrictModes no\nUsePAM no\nPidFile none\n"
    )
    box = Sandbox(home, first=f"/usr/sbin/sshd -D -e -f {home}/sshd_config")
    yield box, key
    box.close()


def test_ray_up_submit_results_ray_down(head, tmp_path):
    box, key = head
    config = yaml.safe_load((REPO / "clusters" / "onprem.yaml").read_text())
    config["provider"].update(head_ip="127.0.0.1", worker_ips=[])
    config["auth"] = {"ssh_user": "root", "ssh_private_key": str(key)}
    (tmp_path / "onprem.yaml").write_text(yaml.safe_dump(config))
    spec = sweep(str(tmp_path / "sweeps"))
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(spec))
    expected = len(validate_spec(spec).expand())

    clock = time.perf_counter()
    box.run("ray get-auth-token --generate")
    token = {"RAY_AUTH_MODE": "token"}
    # --no-config-cache: leave no cached copy of this throwaway config in /tmp
    box.run(f"ray up -y --no-config-cache {tmp_path}/onprem.yaml", env=token)
    box.run(f"junkdna submit {tmp_path}/sweep.yaml --address 127.0.0.1:6379", env=token)
    assert "builtin/polarity-hard" in box.run(f"junkdna results table {tmp_path}/sweeps/up")
    rows = box.run(
        f"junkdna results query {tmp_path}/sweeps/up "
        "\"select count(*) as n from trials where status = 'ok'\" --format csv"
    )
    box.run(f"ray down -y {tmp_path}/onprem.yaml", env=token)
    print(f"ray up → submit → results → ray down: {time.perf_counter() - clock:.0f} s")
    assert rows.split() == ["n", str(expected)]
    assert "raylet" not in box.processes()  # ray down stopped the head's Ray
