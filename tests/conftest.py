"""Shared fixtures: the real data (OCCFACE_DATA) and small aligned subsets of it.

Data tests skip with a reason when OCCFACE_DATA is unset (CI sets it, so there they run). They read the
committed landmark file; the one-time dlib landmark computation never runs here."""

from __future__ import annotations

import os

import pytest
import torch

from runner_fakes import sandbox  # noqa: F401  (the runner tests' fake papermill and data, one fixture)

# the notebooks run on one thread: a model a test trains first and caches must equal the notebook's own
torch.set_num_threads(1)


@pytest.fixture
def seeded_one_thread():
    """torch seeded with 0 on one thread for the test (tiny convs only lose from more threads on a shared
    2-core machine, and the runs stay stable); the thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def data_root():
    if not os.environ.get("OCCFACE_DATA"):
        pytest.skip("OCCFACE_DATA is not set: export OCCFACE_DATA=/path/to/data (holding lfw/, att_faces/, "
                    "occluders/) to run the real-data tests")
    from occface.paths import data_root as root
    return root()


@pytest.fixture(scope="session")
def orl_faces(data_root):
    from occface.faces.data import load_faces
    return load_faces("orl", 64, "all")


@pytest.fixture(scope="session")
def faces128(orl_faces, data_root):
    """A few real faces at 128x128 (ORL: 400 images, quick to align) with their landmarks."""
    from occface.faces.data import load_faces
    f = load_faces("orl", 128, "all")
    idx = torch.arange(0, 400, 25)
    return f.images[idx], f.landmarks[idx]
