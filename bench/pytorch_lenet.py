"""The PyTorch contender of `npm run bench` (bench/pytorch.ts runs it): one round of training steps of
LeNet-300-100 or LeNet-5 on the MNIST batches bench/pytorch.ts wrote, with the same batch, optimizer (SGD with
momentum 0.9, lr 0.05) and initialisation scale as gradc's examples/mnist-mlp.nn (Xavier) and
examples/lenet5.nn (He for the ReLU layers, Xavier for the last). Prints the examples per second of the timed round as JSON.

    python3 bench/pytorch_lenet.py NET THREADS BATCHES DATA_DIR
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

net_name, threads, batches, data_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
torch.manual_seed(1)
BATCH = 64
X = torch.from_numpy(np.fromfile(f"{data_dir}/x.f32", dtype=np.float32).reshape(-1, 784))
Y = torch.from_numpy(np.fromfile(f"{data_dir}/y.i64", dtype=np.int64))
rows = (X.shape[0] // BATCH) * BATCH


def lenet300():
    return nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))


def lenet5():
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


model = lenet300() if net_name == "lenet300" else lenet5()
layers = [m for m in model if isinstance(m, (nn.Linear, nn.Conv2d))]
for k, m in enumerate(layers):
    he = net_name == "lenet5" and k < len(layers) - 1
    (nn.init.kaiming_normal_ if he else nn.init.xavier_normal_)(m.weight)
    nn.init.zeros_(m.bias)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()


def step(i):
    start = (i * BATCH) % (rows - BATCH)
    opt.zero_grad(set_to_none=True)
    loss_fn(model(X[start:start + BATCH]), Y[start:start + BATCH]).backward()
    opt.step()


for i in range(10):  # warm up, as gradc's contenders are
    step(i)
t = time.perf_counter()
for i in range(batches):
    step(i)
print(json.dumps({"examples_per_s": batches * BATCH / (time.perf_counter() - t), "torch": torch.__version__,
                  "blas": torch.__config__.show().count("openblas") > 0 or "BLAS_INFO=open" in torch.__config__.show()}))
