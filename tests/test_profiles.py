import subprocess
import time

import pytest

from occface.paths import REPO_ROOT
from occface.profiles import PROFILES, get_profile


def test_profiles_grow_from_quick_to_full():
    quick, default, full = (PROFILES[n] for n in ("quick", "default", "full"))
    assert quick.steps < default.steps < full.steps
    assert quick.image_size < default.image_size <= full.image_size == 128
    assert full.recog_size == (112, 96)  # FROM's input size


def test_unknown_profile_names_the_valid_ones():
    with pytest.raises(ValueError, match="quick, default, full"):
        get_profile("nonsense")


def test_make_with_unknown_profile_fails_fast_listing_profiles():
    started = time.time()
    proc = subprocess.run(["make", "-s", "reproduce", "PROFILE=nonsense"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "valid profiles are: quick, default, full" in proc.stderr
    assert time.time() - started < 5.0  # no venv, no data read: seconds even on a loaded 2-core machine
