"""Exports the first N images of Fashion-MNIST's t10k set to an image folder, for the test that
checks source: image_folder against source: idx (tests/data/sources/image_folder_source_test.cpp), and
for configs/vit-image-folder.yaml.

Writes OUT/CLASS_NAME/NNNNN.EXT (NNNNN: the image's index in t10k) as PNG (lossless: the same
pixels) or JPEG (quality 95), with Pillow; or, with `tar`, WebDataset shards
OUT/shard-000000.tar, ... of 100 samples each: NNNNN.png and NNNNN.cls (the class number).
Usage: export_fashion_mnist.py IDX_FOLDER OUT N png|jpg|tar
"""
import io
import tarfile
import gzip
import os
import sys

import numpy as np
from PIL import Image

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def main(folder, out, count, ext):
    with gzip.open(os.path.join(folder, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(folder, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    if ext == "tar":
        os.makedirs(out, exist_ok=True)
        for start in range(0, count, 100):
            with tarfile.open(os.path.join(out, f"shard-{start // 100:06d}.tar"), "w", format=tarfile.USTAR_FORMAT) as tar:
                for i in range(start, min(count, start + 100)):
                    png = io.BytesIO()
                    Image.fromarray(images[i]).save(png, "PNG")
                    for name, data in ((f"{i:05d}.png", png.getvalue()), (f"{i:05d}.cls", str(labels[i]).encode())):
                        info = tarfile.TarInfo(name)
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
        return
    for i in range(count):
        # Folder names cannot hold "/": T-shirt/top becomes T-shirt_top.
        folder_name = CLASSES[labels[i]].replace("/", "_")
        os.makedirs(os.path.join(out, folder_name), exist_ok=True)
        path = os.path.join(out, folder_name, f"{i:05d}.{ext}")
        image = Image.fromarray(images[i])
        if ext == "jpg":
            image.save(path, "JPEG", quality=95)
        else:
            image.save(path, "PNG")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
