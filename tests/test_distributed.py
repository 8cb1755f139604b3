import os
import subprocess
import sys

import pytest

from occface.paths import REPO_ROOT


@pytest.mark.slow
def test_trainer_runs_data_parallel_on_two_gloo_processes(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OCCFACE_CACHE": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(REPO_ROOT / "scripts" / "ddp_smoke.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "backend=gloo world=2 weights_equal=True" in proc.stdout
    assert (tmp_path / "ddp.pt").exists()
