"""clusters/onprem.yaml passes Ray's own cluster-config schema and keeps token auth on."""

from __future__ import annotations

import copy

import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from tests.cluster.sandbox import REPO


def test_passes_rays_schema_validation_with_token_auth_on_every_node():
    config = yaml.safe_load((REPO / "clusters" / "onprem.yaml").read_text())
    validate_config(prepare_config(copy.deepcopy(config)))
    assert config["provider"]["type"] == "local"
    for commands in (config["head_start_ray_commands"], config["worker_start_ray_commands"]):
        assert "RAY_AUTH_MODE=token" in " ".join(commands)
    assert "--dashboard-host=127.0.0.1" in " ".join(config["head_start_ray_commands"])
