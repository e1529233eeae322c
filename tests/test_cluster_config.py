"""cluster.yaml passes Ray's own cluster-config schema and keeps the properties users rely on."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path

import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).parent.parent / "cluster.yaml"
DOCKERFILE = CLUSTER.parent / "clusters" / "Dockerfile"


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(CLUSTER.read_text())


def test_passes_rays_schema_validation(config):
    validate_config(prepare_config(copy.deepcopy(config)))


def test_a_broken_config_is_refused_by_the_same_validation(config):
    broken = copy.deepcopy(config)
    broken["available_node_types"]["gpu"]["min_workers"] = "zero"
    with pytest.raises(Exception, match="zero"):
        validate_config(prepare_config(broken))


def test_image_is_rays_gpu_image_of_the_installed_ray_plus_the_dependencies(config):
    text = DOCKERFILE.read_text()
    assert re.search(rf"^ARG RAY_VERSION={re.escape(ray.__version__)}$", text, re.M)
    assert re.search(r"^FROM rayproject/ray:\$\{RAY_VERSION\}-py311-gpu$", text, re.M)  # not ray-ml
    assert "pyproject.toml" in text and "ray==${RAY_VERSION}" in text  # Ray kept at the image's
    # cluster.yaml runs that image, tagged with the same Ray version
    assert config["docker"]["image"].endswith(f"/junkdna:{ray.__version__}-py311-gpu")


def commands(config: dict, *keys: str) -> str:
    return " ".join(c for k in keys for c in config.get(k) or [])


def test_a_node_boot_installs_nothing(config):
    boot = commands(config, "initialization_commands", "setup_commands", "head_setup_commands",
                    "worker_setup_commands")  # fmt: skip
    for node in config["available_node_types"].values():
        boot += " ".join(node.get("initialization_commands", []) + node.get("setup_commands", []))
    for install in ("pip install", "pip3 install", "uv pip", "conda install", "torch"):
        assert install not in boot
    assert not config["setup_commands"] and not config["head_setup_commands"]
    # the code travels with each job (working_dir / py_modules), not as a checkout on the nodes
    assert not any("junkdna" in dst for dst in config["file_mounts"])


def docker_options(config: dict) -> list[str]:
    return shlex.split(" ".join(config["docker"]["run_options"]))


def test_one_hugging_face_cache_per_cluster_on_efs(config):
    options = docker_options(config)
    env = dict(o.split("=", 1) for o in options[1::2] if "=" in o)
    volumes = dict(v.split(":")[:2] for flag, v in zip(options, options[1:]) if flag == "--volume")
    hf_home = env["HF_HOME"]
    host = next(h for h, c in volumes.items() if hf_home == c or hf_home.startswith(c + "/"))
    # the host path is on the EFS file system that every node mounts before its container starts
    mount = re.search(r"mount -t nfs4 -o \S+ fs-\w+\.efs\.[\w.-]+:/ (/[\w/]+)",
                      commands(config, "initialization_commands"))  # fmt: skip
    assert mount and host.startswith(mount[1] + "/")


def test_hf_token_is_not_in_the_file():
    text = CLUSTER.read_text()
    assert not re.search(r"hf_[A-Za-z0-9]{20,}", text)  # no token value
    assert "HF_TOKEN=" not in text  # and no variable set on the nodes (it comes with the job)


def test_gpu_workers_autoscale_from_zero_behind_a_cpu_head(config):
    nodes = config["available_node_types"]
    assert nodes[config["head_node_type"]]["resources"] == {"CPU": 0}
    assert nodes["gpu"]["min_workers"] == 0 and nodes["gpu"]["max_workers"] >= 1
    assert nodes["gpu"]["node_config"]["InstanceType"].startswith(("g", "p"))


def test_dashboard_on_localhost_and_token_auth_everywhere(config):
    head = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head
    for commands in (config["head_start_ray_commands"], config["worker_start_ray_commands"]):
        assert "RAY_AUTH_MODE=token" in " ".join(commands)
    assert "--env RAY_AUTH_MODE=token" in " ".join(config["docker"]["run_options"])
    assert config["file_mounts"]["/home/ray/.ray/auth_token"] == "~/.ray/auth_token"


def test_no_credentials_in_the_file():
    text = CLUSTER.read_text().lower()
    # (`aws ecr get-login-password | docker login --password-stdin` names no password)
    for secret in ("aws_secret_access_key", "aws_access_key_id", "akia", "password:", "password="):
        assert secret not in text
