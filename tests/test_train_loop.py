import pytest
import torch
from torch import nn

from occface.runtime import seed_everything
from occface.train import Trainer, TrainingDivergedError, checkpoint_path, load_checkpoint


def _setup(path, steps=40):
    seed_everything(0)
    model = nn.Linear(4, 1)
    optim = torch.optim.SGD(model.parameters(), lr=0.05)
    trainer = Trainer({"model": model}, {"optim": optim}, path, steps=steps, save_every=10, desc="toy")

    def step_fn(step, crash_at=None):
        if step == crash_at:
            raise KeyboardInterrupt
        x = torch.randn(8, 4)  # consumes the global RNG: resume must restore it
        loss = ((trainer.modules["model"](x) - x.sum(1, keepdim=True)) ** 2).mean()
        optim.zero_grad()
        trainer.backward(loss)
        optim.step()
        return {"loss": loss.item()}
    return trainer, model, step_fn


def test_interrupted_training_resumes_to_identical_weights(tmp_path):
    trainer, model, step = _setup(tmp_path / "a.pt")
    trainer.fit(step)
    reference = model.weight.detach().clone()

    trainer, model, step = _setup(tmp_path / "b.pt")
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(lambda s: step(s, crash_at=25))
    assert (tmp_path / "b.partial.pt").exists() and not (tmp_path / "b.pt").exists()
    trainer, model, step = _setup(tmp_path / "b.pt")
    history = trainer.fit(step)
    assert len(history["loss"]) == 40
    torch.testing.assert_close(model.weight, reference, rtol=0, atol=0)


def test_finished_checkpoint_is_reused_and_loads_weights_only(tmp_path):
    trainer, model, step = _setup(tmp_path / "c.pt")
    trainer.fit(step)
    payload = load_checkpoint(tmp_path / "c.pt")  # torch.load(weights_only=True) inside
    assert payload["finished"] and payload["step"] == 40
    calls = []
    trainer, model2, _ = _setup(tmp_path / "c.pt")
    trainer.fit(lambda s: calls.append(s))
    assert calls == []
    torch.testing.assert_close(model2.weight, model.weight)


def test_nan_loss_stops_training_with_a_clear_error(tmp_path):
    trainer, _, _ = _setup(tmp_path / "d.pt")
    with pytest.raises(TrainingDivergedError, match="loss 'loss' became nan at step 0"):
        trainer.fit(lambda s: {"loss": float("nan")})
    assert not (tmp_path / "d.pt").exists()


def test_checkpoint_name_changes_with_config():
    assert checkpoint_path("m", {"lr": 0.1}) != checkpoint_path("m", {"lr": 0.2})
    assert checkpoint_path("m", {"lr": 0.1}) == checkpoint_path("m", {"lr": 0.1})
