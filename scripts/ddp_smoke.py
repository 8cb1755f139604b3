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


def main(out: Path) -> None:
    seed_everything(0)
    model = nn.Linear(4, 1)
    optim = torch.optim.SGD(model.parameters(), lr=0.05)
    trainer = Trainer({"model": model}, {"optim": optim}, out / "ddp.pt", steps=20, desc="ddp")
    rank = trainer.accelerator.process_index
    generator = torch.Generator().manual_seed(100 + rank)  # a different data shard per rank

    def step_fn(step: int) -> dict:
        x = torch.randn(8, 4, generator=generator)
        loss = ((trainer.modules["model"](x) - x.sum(1, keepdim=True)) ** 2).mean()
        optim.zero_grad()
        trainer.backward(loss)
        optim.step()
        return {"loss": loss.item()}

    trainer.fit(step_fn)
    weights = trainer.unwrapped("model").weight.detach().flatten()
    gathered = [torch.zeros_like(weights) for _ in range(trainer.accelerator.num_processes)]
    dist.all_gather(gathered, weights)
    if rank == 0:
        same = all(torch.equal(gathered[0], g) for g in gathered)
        print(f"backend={dist.get_backend()} world={len(gathered)} weights_equal={same}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
