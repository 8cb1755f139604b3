"""A job table for tests/test_pretrain.py: tiny models, importable by the pool's spawned workers."""

import json
import os
import time

import torch

from occface.train import Trainer, checkpoint_path


def _tiny(name: str, record: bool = True):
    def job():
        torch.manual_seed(0)
        net = torch.nn.Linear(4, 1)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        trainer = Trainer({"net": net}, {"opt": opt}, checkpoint_path(f"tiny-{name}", {"n": 1}), steps=20,
                          desc=name)

        def step(i):
            time.sleep(0.02)  # long enough that the two jobs overlap in two workers
            loss = net(torch.ones(2, 4)).pow(2).mean()
            opt.zero_grad()
            trainer.backward(loss)
            opt.step()
            return {"loss": loss.item()}

        history = trainer.fit(step)
        if record:
            out = os.path.join(os.environ["OCCFACE_CACHE"], f"ran-{name}-{os.getpid()}.json")
            with open(out, "w") as f:
                json.dump({"pid": os.getpid(), "threads": torch.get_num_threads(), "steps": len(history["loss"])}, f)
    return job


def _broken():
    raise RuntimeError("this job fails on purpose")


TABLE = {"nb_a": lambda p: {"one": _tiny("one"), "two": _tiny("two")},
         "nb_b": lambda p: {"broken": _broken},
         "nb_c": lambda p: {}}
