"""Data-parallel smoke run of occface.train.Trainer: `torchrun --nproc_per_node=2 scripts/ddp_smoke.py OUT`.

Each rank sees different batches; DDP averages the gradients, so the weights must agree on every rank.
On the CPU Accelerate picks the gloo backend; on GPUs the same script runs with NCCL.
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from occface.runtime import seed_everything
from occface.train import Trainer


def tiny_trainer(path: Path, steps: int, desc: str, **options) -> tuple[Trainer, nn.Module, torch.optim.Optimizer]:
    """The tiny model (seeded ``nn.Linear(4, 1)``, SGD lr 0.05) behind a Trainer checkpointing to ``path``
    (``options``: further Trainer arguments); tests/test_train_loop.py trains it too."""
    seed_everything(0)
    model = nn.Linear(4, 1)
    optim = torch.optim.SGD(model.parameters(), lr=0.05)
    return Trainer({"model": model}, {"optim": optim}, path, steps=steps, desc=desc, **options), model, optim


def sum_step(trainer: Trainer, optim: torch.optim.Optimizer, x: torch.Tensor) -> dict:
    """One optimizer step of ``trainer``'s "model" towards the row sums of the batch ``x`` (N,4); its logs."""
    loss = ((trainer.modules["model"](x) - x.sum(1, keepdim=True)) ** 2).mean()
    optim.zero_grad()
    trainer.backward(loss)
    optim.step()
    return {"loss": loss.item()}


def main(out: Path) -> None:
    trainer, _, optim = tiny_trainer(out / "ddp.pt", steps=20, desc="ddp")
    rank = trainer.accelerator.process_index
    generator = torch.Generator().manual_seed(100 + rank)  # a different data shard per rank

    def step_fn(step: int) -> dict:
        return sum_step(trainer, optim, torch.randn(8, 4, generator=generator))

    trainer.fit(step_fn)
    weights = trainer.unwrapped("model").weight.detach().flatten()
    gathered = [torch.zeros_like(weights) for _ in range(trainer.accelerator.num_processes)]
    dist.all_gather(gathered, weights)
    if rank == 0:
        same = all(torch.equal(gathered[0], g) for g in gathered)
        print(f"backend={dist.get_backend()} world={len(gathered)} weights_equal={same}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
