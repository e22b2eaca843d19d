#pragma once
// Mixup (Zhang et al., 2018) and CutMix (Yun et al., 2019) as timm applies them: each training
// batch blended with itself reversed, one share per batch, and soft targets to match.

#include <cstdint>

#include "core/batch.h"
#include "engine/config.h"

namespace stratum {

/// What mixing did to one batch.
struct MixedBatch {
  data::Batch batch;   ///< inputs blended; targets (B, classes) float32 soft labels
  double lambda = 1;   ///< each example's own share (CutMix: the share its clipped box leaves)
  bool mixed = false;  ///< false: this batch drew no mixing (its targets are still soft, smoothed)
  bool cutmix = false;
};

/// Blends `batch` (float inputs (B, ...), targets (B) class ids) with itself reversed along the
/// batch: Mixup takes lambda · x + (1 - lambda) · x_reversed; CutMix (images (B, C, H, W)) pastes
/// the reversed batch's pixels into a box of area (1 - lambda) · H · W centred uniformly and
/// clipped to the image, lambda then recomputed from the clipped box. lambda ~ Beta(alpha,
/// alpha). Targets: lambda · y + (1 - lambda) · y_reversed over one-hot rows smoothed by
/// `label_smoothing` (off = s / classes, on = 1 - s + off). Every draw comes from `seed`
/// alone, so a resumed run mixes each batch exactly as the uninterrupted run did.
MixedBatch mix_batch(const data::Batch& batch, int64_t classes, double label_smoothing, const MixupOptions& options,
                     uint64_t seed);

}  // namespace stratum
