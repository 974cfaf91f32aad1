#!/usr/bin/python3
"""Makes the PyTorch-written ONNX fixture of distill's tests: a small CNN trained on the shipped digits,
exported with torch.onnx, and the logits PyTorch itself computes for the first 100 rows of the data file.

    OMP_NUM_THREADS=1 /usr/bin/python3 tools/pytorch_digits_teacher.py distill-runner/src/test/resources/onnx

Run with Debian's python3-torch (1.13). The model takes raw pixel values (0..16, as in datasets/digits.csv.gz)
normalized as (raw - 4.88) / 6.02, images NCHW [N, 1, 8, 8], and outputs logits. distill holds digits
scaled by 1/16, so the config declaring it says scale: 16, mean: [4.88], std: [6.02]. Trained on rows
100.. of the file; the first 100 rows are what the saved logits cover.
"""
import gzip
import sys

import numpy as np
import torch
import torch.nn as nn

MEAN, STD = 4.88, 6.02


def main(out):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with gzip.open("datasets/digits.csv.gz", "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = torch.from_numpy((rows[:, :64] - MEAN) / STD).reshape(-1, 1, 8, 8)
    y = torch.from_numpy(rows[:, 64].astype(np.int64))
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    train_x, train_y = x[100:], y[100:]
    for epoch in range(15):
        order = torch.randperm(len(train_x))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(x[:100])
    accuracy = (logits.argmax(1) == y[:100]).float().mean().item()
    torch.onnx.export(model, x[:1], f"{out}/pytorch-digits-cnn.onnx", input_names=["pixels"],
                      output_names=["logits"], dynamic_axes={"pixels": {0: "n"}, "logits": {0: "n"}},
                      opset_version=13)
    np.savetxt(f"{out}/pytorch-digits-cnn-logits.csv", logits.numpy(), delimiter=",", fmt="%.9g",
               header=f"logits of rows 0..99 of datasets/digits.csv.gz by PyTorch {torch.__version__}; "
                      f"accuracy on them {accuracy:.2f}")
    print(f"torch {torch.__version__}: accuracy on rows 0..99 {accuracy:.2f}; wrote {out}/pytorch-digits-cnn.onnx")


if __name__ == "__main__":
    main(sys.argv[1])
