"""Reference outputs of torchvision's RandAugment operations, for the RandAugment parity test.

Makes an RGB and a gray 8-bit test image (gradients, noise and flat patches; height and width
differ so axes cannot be confused), then applies every operation of RandAugment's augmentation
space at bins 0, 9 and 30 of 31, with both signs where the operation is signed, exactly as
RandAugment does (torchvision.transforms.autoaugment._apply_op on uint8 tensors, nearest
interpolation, no fill).
Usage: rand_augment_ops.py OUT_DIR
Writes OUT_DIR/{rgb,gray}.raw (HWC bytes), one OUT_DIR/NNN.raw per case and OUT_DIR/cases.json.
"""
import json
import sys

import numpy as np
import torch
from torchvision.transforms import InterpolationMode, RandAugment
from torchvision.transforms.autoaugment import _apply_op

HEIGHT, WIDTH = 40, 56


def test_image(channels, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    planes = []
    for c in range(channels):
        plane = 40 + 3 * x + (2 + c) * y + rng.integers(-20, 21, size=(HEIGHT, WIDTH))
        plane[5:15, 30:45] = 90 + 40 * c  # a flat patch
        planes.append(np.clip(plane, 0, 255))
    return np.stack(planes, axis=-1).astype(np.uint8)


def main():
    out = sys.argv[1]
    space = RandAugment()._augmentation_space(31, (HEIGHT, WIDTH))
    cases = []
    for name, channels, seed in (("rgb", 3, 1), ("gray", 1, 2)):
        image = test_image(channels, seed)
        image.tofile(f"{out}/{name}.raw")
        tensor = torch.from_numpy(image).permute(2, 0, 1).contiguous()
        for index, (op, (magnitudes, signed)) in enumerate(space.items()):
            for bin_ in (0, 9, 30):
                magnitude = float(magnitudes[bin_].item()) if magnitudes.ndim > 0 else 0.0
                for sign in ((1.0, -1.0) if signed else (1.0,)):
                    result = _apply_op(tensor, op, sign * magnitude, interpolation=InterpolationMode.NEAREST, fill=None)
                    path = f"{out}/{len(cases):03d}.raw"
                    result.permute(1, 2, 0).contiguous().numpy().tofile(path)
                    cases.append({"image": name, "channels": channels, "op": op, "index": index, "bin": bin_,
                                  "magnitude": sign * magnitude, "path": path})
    with open(f"{out}/cases.json", "w") as f:
        json.dump({"height": HEIGHT, "width": WIDTH, "cases": cases}, f)


if __name__ == "__main__":
    main()
