"""Reference pixels for the image pipeline's parity test (tests/data/images/image_parity_test.cpp).

Writes images in the formats Stratum decodes (JPEG, PNG in gray / RGB / RGBA / palette / 16-bit,
WebP lossy and lossless) and, for each, what Pillow and torchvision make of it: decoded pixels
(convert("RGB") or convert("L")), Image.resize(..., BILINEAR) to several sizes, torchvision's
Resize(shorter side) + CenterCrop, and ToTensor + Normalize floats. Raw bytes (uint8 HWC, or
float32 CHW) next to a manifest.json that names them.
Usage: image_pipeline.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
from PIL import Image
from torchvision import transforms


def smooth_image(rng, height, width, channels):
    # Low-frequency content plus noise: what photos look like to a codec.
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for _ in range(channels):
        a, b, c = rng.uniform(0.02, 0.2, 3)
        plane = 127 + 90 * np.sin(a * x + b * y + c) + rng.normal(0, 12, (height, width))
        planes.append(plane)
    pixels = np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)
    return pixels[..., 0] if channels == 1 else pixels


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    cases = []

    def add(name, image, fmt, **save):
        path = os.path.join(out, name)
        image.save(path, fmt, **save)
        cases.append({"name": name, "path": path})

    add("photo.jpg", Image.fromarray(smooth_image(rng, 123, 171, 3)), "JPEG", quality=90)
    add("gray.jpg", Image.fromarray(smooth_image(rng, 64, 48, 1)), "JPEG", quality=85)
    add("rgb.png", Image.fromarray(smooth_image(rng, 77, 60, 3)), "PNG")
    add("gray.png", Image.fromarray(smooth_image(rng, 40, 90, 1)), "PNG")
    rgba = np.concatenate([smooth_image(rng, 50, 50, 3), rng.integers(0, 256, (50, 50, 1), dtype=np.uint8)], -1)
    add("rgba.png", Image.fromarray(rgba), "PNG")
    add("palette.png", Image.fromarray(smooth_image(rng, 33, 45, 3)).quantize(64), "PNG")
    add("deep.png", Image.fromarray(smooth_image(rng, 30, 30, 1).astype(np.uint16) * 257), "PNG")
    add("lossy.webp", Image.fromarray(smooth_image(rng, 90, 64, 3)), "WEBP", quality=80)
    add("lossless.webp", Image.fromarray(smooth_image(rng, 41, 59, 3)), "WEBP", lossless=True)

    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    for case in cases:
        with Image.open(case["path"]) as im:
            im.load()
            for mode in ("RGB", "L"):
                if im.mode == "I;16":  # 16-bit gray: Pillow keeps the high byte, as libpng's strip does
                    base = Image.fromarray((np.asarray(im, dtype=np.uint16) >> 8).astype(np.uint8)).convert(mode)
                else:
                    base = im.convert(mode)
                tag = f'{case["name"]}.{mode}'
                entry = case.setdefault(mode, {})
                entry["height"], entry["width"] = base.height, base.width
                np.asarray(base, dtype=np.uint8).tofile(os.path.join(out, tag + ".decoded"))
                entry["resized"] = []
                for h, w in ((base.height * 3 // 7 or 1, base.width * 3 // 7 or 1), (base.height * 2 + 3, base.width * 5 // 3),
                             (17, 91), (base.height, base.width // 2 or 1)):
                    name = f"{tag}.{h}x{w}"
                    np.asarray(base.resize((w, h), Image.BILINEAR), dtype=np.uint8).tofile(os.path.join(out, name))
                    entry["resized"].append({"height": h, "width": w, "file": name})
                size, crop = 36, 32
                centered = transforms.CenterCrop(crop)(transforms.Resize(size)(base))
                np.asarray(centered, dtype=np.uint8).tofile(os.path.join(out, tag + ".center"))
                entry["center"] = {"resize": size, "crop": crop, "file": tag + ".center"}
                m, s = (mean, std) if mode == "RGB" else ([0.5], [0.25])
                normalized = transforms.Normalize(m, s)(transforms.ToTensor()(centered)).numpy().astype(np.float32)
                normalized.tofile(os.path.join(out, tag + ".normalized"))
                entry["normalized"] = {"mean": m, "std": s, "file": tag + ".normalized"}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
