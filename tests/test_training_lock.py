"""Two processes asking for the same model: the second waits for the first and reuses its checkpoint."""

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys, time, torch
from occface.train import Trainer
torch.manual_seed(0)
model = torch.nn.Linear(2, 1)
optim = torch.optim.SGD(model.parameters(), lr=0.1)
trainer = Trainer({"model": model}, {"opt": optim}, sys.argv[1], steps=40, desc="tiny")
calls = []
def step(i):
    calls.append(i)
    if i == 0:
        print("TRAINING", flush=True)
    time.sleep(0.5)  # long enough for the second process to start while this one trains
    loss = model(torch.ones(4, 2)).pow(2).mean()
    optim.zero_grad(); trainer.backward(loss); optim.step()
    return {"loss": loss.item()}
trainer.fit(step)
print("STEPS_RUN", len(calls), flush=True)
"""


def test_a_second_process_waits_for_the_first_and_reuses_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    lib = str(Path(__file__).resolve().parents[1] / "lib")
    monkeypatch.setenv("PYTHONPATH", lib)
    script = tmp_path / "train_tiny.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, str(script), str(tmp_path / "tiny.pt")]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in first.stdout:  # start the second run only once the first is training
        if "TRAINING" in line:
            break
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    out_first = first.communicate(timeout=120)[0]
    assert "STEPS_RUN 40" in out_first
    assert "STEPS_RUN 0" in second.stdout, second.stdout + second.stderr
    assert "waiting for it" in second.stdout and "reusing finished checkpoint" in second.stdout
