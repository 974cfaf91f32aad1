#!/usr/bin/python3
"""Trains the Fashion-MNIST protocol's CNN teacher in PyTorch and exports it to ONNX, for
configs/fashion-mnist-kd-pytorch-teacher.yaml (a foreign teacher distilled into distill's MLP student).

    OMP_NUM_THREADS=1 /usr/bin/python3 tools/pytorch_fashion_mnist_teacher.py runs/pytorch-teacher

Debian's python3-torch and dataset-fashion-mnist. The architecture is the protocol's DL4J teacher
(configs/fashion-mnist-takd.yaml): conv 32 3x3 same, relu, max pool 2, conv 64 3x3 same, relu, max pool 2,
dense 256 relu, dense 10; 824,458 parameters; Adam 1e-3, batch 128, 10 epochs, on the first 54,000
training images (distill's validation split is another 6,000 chosen by seed; close enough for a teacher),
the epoch with the best accuracy on the last 6,000 kept. Input: pixels / 255 as distill holds them, NCHW
[N, 1, 28, 28]; output: logits. Writes OUT/fashion-mnist-cnn.onnx and prints the t10k test accuracy.
"""
import copy
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"


def idx(name, offset):
    with gzip.open(f"{DATA}/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def images(prefix):
    x = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    y = idx(f"{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        right = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    model.train()
    return right / len(x)


def main(out):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x, y = images("train")
    test_x, test_y = images("t10k")
    train_x, train_y, val_x, val_y = x[:54000], y[:54000], x[54000:], y[54000:]
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    best, best_state = -1, None
    for epoch in range(10):
        start = time.time()
        order = torch.randperm(len(train_x))
        for i in range(0, len(order), 128):
            batch = order[i:i + 128]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
        val = accuracy(model, val_x, val_y)
        if val > best:
            best, best_state = val, copy.deepcopy(model.state_dict())
        print(f"epoch {epoch + 1}: val {val:.4f} ({time.time() - start:.0f} s)", flush=True)
    model.load_state_dict(best_state)
    model.eval()
    test = accuracy(model, test_x, test_y)
    torch.onnx.export(model, test_x[:1], f"{out}/fashion-mnist-cnn.onnx", input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}},
                      opset_version=13)
    print(f"torch {torch.__version__}: best val {best:.4f}, test accuracy {test:.4f}; "
          f"wrote {out}/fashion-mnist-cnn.onnx")


if __name__ == "__main__":
    main(sys.argv[1])
