"""cluster.yaml passes Ray's own cluster-config schema and keeps the properties users rely on."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).parent.parent / "cluster.yaml"


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


def test_image_matches_the_installed_ray_and_is_not_ray_ml(config):
    image = config["docker"]["image"]
    assert image.startswith(f"rayproject/ray:{ray.__version__}-") and image.endswith("-gpu")


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
    for secret in ("aws_secret_access_key", "aws_access_key_id", "akia", "password"):
        assert secret not in text
    assert "junkdna" in " ".join(yaml.safe_load(text)["setup_commands"])
