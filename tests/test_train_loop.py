import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from occface.runtime import seed_everything
from occface.train import (CheckpointKeyError, CheckpointRefusedError, CorruptCheckpointWarning, Trainer,
                           TrainingDivergedError, checkpoint_key, checkpoint_path, load_checkpoint, save_checkpoint)

# the tiny model and its step, shared with the data-parallel smoke run
ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("ddp_smoke", ROOT / "scripts" / "ddp_smoke.py")
ddp_smoke = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ddp_smoke)


def _setup(path, steps=40):
    trainer, model, optim = ddp_smoke.tiny_trainer(path, steps=steps, desc="toy", save_every=10)

    def step_fn(step, crash_at=None):
        if step == crash_at:
            raise KeyboardInterrupt
        x = torch.randn(8, 4)  # consumes the global RNG: resume must restore it
        return ddp_smoke.sum_step(trainer, optim, x)
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


# ---------------------------------------------------------------- checkpoints


UNPICKLED = []


class Foreign:
    """Something a checkpoint must never hold; unpickling it would record itself."""

    def __setstate__(self, state):
        UNPICKLED.append(state)


def _trainer(path, steps=40, generators=None):
    seed_everything(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    optim = torch.optim.Adam(model.parameters(), lr=0.01)
    extra = {"generators": generators} if generators else {}
    trainer = Trainer({"model": model}, {"optim": optim}, path, steps=steps, save_every=10, desc="toy", **extra)
    return trainer, model, optim


def _per_step_batches(trainer, optim, crash_at=None, nan_from=None):
    def step_fn(step):
        if step == crash_at:
            raise KeyboardInterrupt
        g = torch.Generator().manual_seed(1000 + step)  # the batch of a step depends on the step only
        logs = ddp_smoke.sum_step(trainer, optim, torch.randn(16, 4, generator=g))  # dropout: global RNG
        return {"loss": float("nan")} if nan_from is not None and step >= nan_from else logs
    return step_fn


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_resume_after_a_kill_is_bit_identical_with_per_step_generators(tmp_path):
    trainer, model, optim = _trainer(tmp_path / "a.pt")
    trainer.fit(_per_step_batches(trainer, optim))
    reference = _weights(model)
    trainer, model, optim = _trainer(tmp_path / "b.pt")
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(_per_step_batches(trainer, optim, crash_at=25))
    assert load_checkpoint(tmp_path / "b.partial.pt")["step"] == 20
    trainer, model, optim = _trainer(tmp_path / "b.pt")
    trainer.fit(_per_step_batches(trainer, optim))
    assert _same(_weights(model), reference)


def test_a_long_lived_generator_is_restored_on_resume(tmp_path):
    def run(path, crash_at=None):
        sampler = torch.Generator().manual_seed(7)
        trainer, model, optim = _trainer(path, generators={"sampler": sampler})

        def step_fn(step):
            if step == crash_at:
                raise KeyboardInterrupt
            return ddp_smoke.sum_step(trainer, optim, torch.randn(16, 4, generator=sampler))  # one stream across steps
        trainer.fit(step_fn)
        return _weights(model)

    reference = run(tmp_path / "a.pt")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b.pt", crash_at=25)
    assert _same(run(tmp_path / "b.pt"), reference)


@pytest.mark.parametrize("which", ["finished", "partial"])
def test_a_truncated_checkpoint_is_named_moved_aside_and_training_restarts(tmp_path, which):
    trainer, model, optim = _trainer(tmp_path / "ref.pt")
    trainer.fit(_per_step_batches(trainer, optim))
    reference = _weights(model)
    path = tmp_path / "c.pt"
    trainer, model, optim = _trainer(path)
    if which == "finished":
        trainer.fit(_per_step_batches(trainer, optim))
        bad = path
    else:
        with pytest.raises(KeyboardInterrupt):
            trainer.fit(_per_step_batches(trainer, optim, crash_at=25))
        bad = tmp_path / "c.partial.pt"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    trainer, model, optim = _trainer(path)
    steps = []
    step_fn = _per_step_batches(trainer, optim)
    with pytest.warns(CorruptCheckpointWarning, match=bad.name):
        trainer.fit(lambda s: steps.append(s) or step_fn(s))
    assert steps == list(range(40))  # from scratch
    assert _same(_weights(model), reference)
    aside = list(tmp_path.glob(f"{bad.name}.corrupt-*"))
    assert len(aside) == 1 and load_checkpoint(path)["finished"]


def test_a_checkpoint_holding_a_foreign_object_is_refused_naming_it(tmp_path):
    path = tmp_path / "d.pt"
    trainer, model, optim = _trainer(path)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(_per_step_batches(trainer, optim, crash_at=15))
    partial = tmp_path / "d.partial.pt"
    payload = load_checkpoint(partial)
    payload["extra"] = Foreign()
    torch.save(payload, partial)
    with pytest.raises(CheckpointRefusedError, match=r"d\.partial\.pt holds .*Foreign"):
        load_checkpoint(partial)
    trainer, model, optim = _trainer(path)
    with pytest.raises(CheckpointRefusedError, match=r"d\.partial\.pt"):
        trainer.fit(_per_step_batches(trainer, optim))
    assert UNPICKLED == [] and partial.exists()  # never unpickled, left for a person to look at


def test_divergence_names_a_partial_checkpoint_only_when_it_is_good(tmp_path):
    trainer, _, optim = _trainer(tmp_path / "e.pt")
    with pytest.raises(TrainingDivergedError, match="no partial checkpoint with finite weights"):
        trainer.fit(_per_step_batches(trainer, optim, nan_from=0))
    trainer, _, optim = _trainer(tmp_path / "f.pt")
    with pytest.raises(TrainingDivergedError, match=r"last good partial checkpoint is .*f\.partial\.pt \(step 20\)"):
        trainer.fit(_per_step_batches(trainer, optim, nan_from=25))
    partial = tmp_path / "f.partial.pt"
    payload = load_checkpoint(partial)
    next(iter(payload["modules"]["model"].values())).fill_(float("nan"))
    save_checkpoint(partial, payload)
    trainer, _, optim = _trainer(tmp_path / "f.pt")
    with pytest.raises(TrainingDivergedError, match="no partial checkpoint with finite weights"):
        trainer.fit(_per_step_batches(trainer, optim, nan_from=20))


def test_a_checkpoint_copied_over_another_configs_file_is_refused_naming_both_keys(tmp_path):
    """Issue 26, case 9: a checkpoint was trusted by its file name (an ablation's copied over the main model's
    was reused as 'finished'). Now the key stored inside it must match the name's."""
    main, ablation = tmp_path / "oa_gan-aaaaaaaaaaaa.pt", tmp_path / "oa_gan-bbbbbbbbbbbb.pt"
    trainer, _, optim = _trainer(ablation)
    trainer.fit(_per_step_batches(trainer, optim))
    assert load_checkpoint(ablation)["key"] == "oa_gan-bbbbbbbbbbbb"
    main.write_bytes(ablation.read_bytes())
    trainer, _, optim = _trainer(main)
    with pytest.raises(CheckpointKeyError, match=r"oa_gan-bbbbbbbbbbbb.*oa_gan-aaaaaaaaaaaa"):
        trainer.fit(_per_step_batches(trainer, optim))
    assert main.exists()  # refused, not moved aside or overwritten


def test_a_checkpoint_without_a_stored_key_is_taken_by_its_name(tmp_path):
    """Checkpoints written before keys were stored keep working (their name is the config's hash)."""
    path = tmp_path / "toy-cccccccccccc.pt"
    trainer, model, optim = _trainer(path)
    trainer.fit(_per_step_batches(trainer, optim))
    reference = _weights(model)
    payload = load_checkpoint(path)
    del payload["key"]
    save_checkpoint(path, payload)
    trainer, model, optim = _trainer(path)
    trainer.fit(lambda step: pytest.fail("an old checkpoint must be reused, not retrained"))
    assert _same(_weights(model), reference)


def test_the_stored_key_of_a_partial_checkpoint_is_its_finished_files_key(tmp_path):
    path = tmp_path / "toy-dddddddddddd.pt"
    trainer, _, optim = _trainer(path)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(_per_step_batches(trainer, optim, crash_at=25))
    assert load_checkpoint(tmp_path / "toy-dddddddddddd.partial.pt")["key"] == checkpoint_key(path) == "toy-dddddddddddd"


def test_no_progress_bar_is_left_open_however_training_ends(tmp_path):
    """Bars that end: finished, reused, interrupted or diverged, the trainer leaves no open tqdm bar (tqdm keeps
    its open bars in ``tqdm._instances``). The bar is a context manager; a bare ``for step in bar`` closed too,
    but only through CPython finalizing the iterator, which this guards against relying on."""
    from tqdm import tqdm as std_tqdm

    def open_bars():
        return [b for b in list(std_tqdm._instances) if not b.disable]

    before = len(open_bars())
    trainer, _, step = _setup(tmp_path / "e.pt", steps=20)
    trainer.fit(step)  # finished
    trainer, _, step = _setup(tmp_path / "e.pt", steps=20)
    trainer.fit(step)  # reused: no bar at 0 %
    assert len(open_bars()) == before
    trainer, _, step = _setup(tmp_path / "f.pt", steps=20)
    with pytest.raises(KeyboardInterrupt) as interrupted:
        trainer.fit(lambda s: step(s, crash_at=5))
    trainer, _, _ = _setup(tmp_path / "g.pt", steps=20)
    with pytest.raises(TrainingDivergedError) as diverged:
        trainer.fit(lambda s: {"loss": float("nan")})
    assert interrupted.value is not None and diverged.value is not None
    assert len(open_bars()) == before
