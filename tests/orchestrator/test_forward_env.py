"""HF_TOKEN travels from the driver's environment to the workers in the runtime env's env_vars
(never through a file), and not twice when a Ray job's runtime env already sets it."""

from __future__ import annotations

import json

import pytest
import ray
from ray.runtime_env.runtime_env import _merge_runtime_env

from orchestrator import driver


@pytest.fixture
def init(monkeypatch):
    """The runtime env _connect hands to ray.init (Ray itself is not started)."""
    for key, value in driver.WORKER_ENV.items():
        monkeypatch.setenv(key, value)  # _connect sets them; restored afterwards
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("RAY_JOB_CONFIG_JSON_ENV_VAR", raising=False)
    calls = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: calls.append(kwargs["runtime_env"]))

    def connect(address=None):
        driver._connect(address)
        return calls[-1]

    return connect


def test_hf_token_is_forwarded_when_set(init, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    env = init("10.0.0.5:6379")
    assert env["env_vars"] == {**driver.WORKER_ENV, "HF_TOKEN": "hf_test"}
    assert "py_modules" in env


def test_nothing_is_forwarded_when_unset(init):
    assert init()["env_vars"] == driver.WORKER_ENV


def test_a_ray_job_that_sets_hf_token_keeps_it_and_the_envs_still_merge(init, monkeypatch):
    job = {
        "runtime_env": {"working_dir": "gcs://_ray_pkg_x.zip", "env_vars": {"HF_TOKEN": "hf_job"}}
    }
    monkeypatch.setenv("RAY_JOB_CONFIG_JSON_ENV_VAR", json.dumps(job))
    monkeypatch.setenv("HF_TOKEN", "hf_job")  # the job's env_vars are the driver's environment
    env = init()
    assert "HF_TOKEN" not in env["env_vars"]
    merged = _merge_runtime_env(job["runtime_env"], env)  # what ray.init does inside a job
    assert merged is not None and merged["env_vars"]["HF_TOKEN"] == "hf_job"


def test_a_cluster_with_gpus_and_a_cpu_sweep_gets_one_warning():
    from orchestrator.driver import unused_gpus_warning
    from orchestrator.spec import validate_spec

    spec = {"name": "a", "models": ["minilm"], "tasks": ["builtin/polarity-easy"], "seeds": [1]}
    cpu = validate_spec(spec)
    assert unused_gpus_warning(cpu, 8).startswith("warning: the cluster has 8 GPUs")
    assert "\n" not in unused_gpus_warning(cpu, 8)
    assert unused_gpus_warning(cpu, 0) is None
    assert unused_gpus_warning(validate_spec({**spec, "resources": {"gpu": 1}}), 8) is None
    assert unused_gpus_warning(validate_spec({**spec, "noop": True}), 8) is None
