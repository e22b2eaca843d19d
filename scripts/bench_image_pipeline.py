"""The Python side of the image-pipeline benchmark (driven by scripts/bench.py).

  bench_image_pipeline.py make DIR [--classes 10] [--per-class 100]
      writes DIR/CLASS/NNNN.jpg: 500 x 375 photos-like JPEGs (smooth colour fields, edges and
      noise; quality 90), the size of a typical ImageNet image.
  bench_image_pipeline.py run DIR --workers N [--batch 64]
      torchvision's ImageFolder + DataLoader with the transforms Stratum's stratum_bench_pipeline
      ImageFolderJpeg applies (Resize(256), RandomResizedCrop(224), RandomHorizontalFlip,
      ToTensor, Normalize with ImageNet statistics), N worker processes, shuffled batches; times
      two epochs and prints one JSON line of images/s.
"""
import argparse
import json
import os
import time

import numpy as np


def make(root, classes, per_class):
    from PIL import Image
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:375, 0:500].astype(np.float32)
    for c in range(classes):
        os.makedirs(os.path.join(root, f"class{c:02d}"), exist_ok=True)
        for i in range(per_class):
            planes = []
            for channel in range(3):
                fx, fy, phase = rng.uniform(0.002, 0.03, 2).tolist() + [rng.uniform(0, 6.3)]
                plane = 128 + 90 * np.sin(fx * x + fy * y + phase) + rng.normal(0, 12, x.shape)
                planes.append(plane)
            image = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
            image[100:180, 150 + 10 * c:260 + 10 * c] = rng.integers(0, 255, 3)  # an edge-bounded patch
            Image.fromarray(image).save(os.path.join(root, f"class{c:02d}", f"{i:04d}.jpg"), quality=90)


def run(root, workers, batch):
    import torch
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    transform = transforms.Compose([
        transforms.Resize(256),
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    torch.manual_seed(1)
    dataset = datasets.ImageFolder(root, transform)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers, persistent_workers=workers > 0)
    epochs = []
    for _ in range(2):
        begin = time.perf_counter()
        for images, labels in loader:
            assert images.shape[1:] == (3, 224, 224)
        epochs.append(time.perf_counter() - begin)
    n = len(dataset)
    # Every epoch decodes again; the first one also starts the worker processes.
    print(json.dumps({"images": n, "workers": workers, "first_epoch_images_per_second": n / epochs[0],
                      "later_epoch_images_per_second": n / epochs[1]}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["make", "run"])
    parser.add_argument("root")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    if args.command == "make":
        make(args.root, args.classes, args.per_class)
    else:
        run(args.root, args.workers, args.batch)


if __name__ == "__main__":
    main()
