import pytest
from mlship_serving.artifact import StartupError
from mlship_serving.server import available_cpus, cgroup_cpu_quota, worker_count


def test_cgroup_v2_and_v1_quotas(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(str(tmp_path)) == 1.5
    assert available_cpus(str(tmp_path)) <= 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(str(tmp_path)) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("50000")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert cgroup_cpu_quota(str(v1)) == 0.5
    assert available_cpus(str(v1)) == 1


def test_worker_count_override_order(spec):
    assert worker_count(spec._replace(workers=3), {"MLSHIP_WORKERS": "5"}) == 5
    assert worker_count(spec._replace(workers=3), {}) == 3
    assert worker_count(spec, {}) >= 1
    with pytest.raises(StartupError):
        worker_count(spec, {"MLSHIP_WORKERS": "many"})
