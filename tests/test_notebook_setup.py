"""start_notebook: the one setup every notebook shares."""

import pytest
import torch

from occface.notebook import start_notebook


def test_start_notebook_seeds_threads_and_opens_the_topic_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path))
    nb = start_notebook("rla", "quick", "LFW", seed=3, quiet=True)
    first = torch.rand(2)
    start_notebook("rla", "quick", "LFW", seed=3, quiet=True)
    assert torch.equal(first, torch.rand(2))
    assert torch.get_num_threads() == 1
    assert nb.profile.name == "quick" and nb.results.folder == tmp_path / "quick" / "rla"
    assert "wall time" in nb.finished()


def test_start_notebook_names_an_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        start_notebook("rla", "fast", "LFW", quiet=True)
