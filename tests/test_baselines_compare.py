"""compare.training_curves: one panel per method that kept a Trainer history, later-stage terms drawn at the
run's last steps, a log axis where the terms are positive and span decades; and every baseline in the table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from occface.studies import compare  # noqa: E402
from occface.registry import Trained  # noqa: E402


def _methods():
    steps = np.arange(40, dtype=float)
    staged = Trained(lambda x, m: x, {"rec": list(1000 / (1 + steps)), "adv": [0.7] * 10, "zero": [0.0] * 40})
    critic = Trained(lambda x: x, {"d": list(np.sin(steps)), "g": list(np.cos(steps))})
    return {"staged": ("inpainter", staged), "pm": ("inpainter", lambda x, m: x), "critic": ("restorer", critic)}


def test_training_curves_draw_one_panel_per_trained_method():
    import matplotlib.pyplot as plt

    fig = compare.training_curves(_methods(), smooth=1)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["staged", "critic"]  # PM kept no history: no panel
    staged, critic = panels
    assert staged.get_yscale() == "log" and critic.get_yscale() == "linear"
    assert {t.get_text() for t in staged.get_legend().get_texts()} == {"rec", "adv"}  # all-zero terms left out
    adv = [line for line in staged.get_lines() if line.get_label() == "adv"][0]
    assert list(adv.get_xdata()) == list(range(30, 40))  # a term logged from step 30 on sits at the last steps
    plt.close(fig)


def test_training_curves_need_at_least_one_history():
    with pytest.raises(ValueError, match="training history"):
        compare.training_curves({"pm": ("inpainter", lambda x, m: x)})


def test_running_mean_and_axis_choice():
    assert np.allclose(compare._running_mean(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])
    assert compare._scale([np.array([1.0, 500.0])]) == "log"
    assert compare._scale([np.array([-1.0, 1e4, 2.0, 3.0])]) == "symlog"
    assert compare._scale([np.array([1.0, 2.0])]) == "linear"


def test_every_registered_baseline_is_in_the_quality_table():
    from occface import methods as registry

    assert "gfc" in compare.BASELINES
    assert all(registry.method(name).name == name for name in compare.BASELINES)


def test_the_registry_builds_each_method_once_per_process(monkeypatch):
    from occface import registry

    calls = []

    def build(profile):
        calls.append(profile.name)
        return lambda images: images

    monkeypatch.setitem(registry.REGISTRY, "counting", registry.Method("counting", "restorer", build, "test"))
    monkeypatch.setattr(registry, "_BUILT", {})
    first = registry.restorer("counting", "quick")
    assert registry.restorer("counting", "quick") is first
    registry.restorer("counting", "default")
    assert calls == ["quick", "default"]
