#pragma once
// What the image sources share: checking data.image, turning an image file's bytes into a
// record (checked, decoded, resized once, packed as 8-bit pixels) with a reason when it cannot
// be one, and building a split's ImageStore from such records.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/data_spec.h"
#include "data/data_options.h"
#include "data/images/image_decode.h"
#include "data/record.h"
#include "data/split_data.h"
#include "data/tensor_dataset.h"

namespace stratum::data {

class RejectLog;
class StreamSplitter;

/// A UserError naming the key when data.image (or data.unseen for image sources) is unusable.
void check_image_options(const DataOptions& options);

/// The format a file name's extension promises: "jpeg", "png", "webp", or "" when the name is
/// not an image's.
std::string image_format_of_name(const std::string& name);

/// Fills `record.payload` with the image in `bytes` (named `name`), decoded to
/// data.image.channels and resized so its shorter side is data.image.resize (or size); or
/// says why it cannot: too large a file, a format other than the name's, a decoding problem.
std::optional<std::string> image_record(const std::string& bytes, const std::string& name, const ImageOptions& options,
                                        Record& record);

/// The threads data.workers asks for to decode and augment images (0: cores - 1, at least 1).
int64_t image_workers(const DataOptions& options);

/// The kept image in a record's payload.
Image unpack_image(const std::string& payload);

/// SourceFacts::collate for image records: each split an ImageStore (evaluation: centered
/// windows; training: data.image.augment), standardized with data.image.mean / std or the seen
/// split's per-channel statistics, examples made on data.workers threads.
std::function<TensorDataset(const std::vector<const Record*>&, const std::vector<int32_t>&, DataSpec&, bool)>
image_collation(const DataOptions& options, const DataContext& context);

/// Ends an image source's read: the final quota plan, the reject budget, and the three splits
/// of ImageStores (classes `class_names`, manifest entries `files`). `nothing` is the error's
/// text when no record was accepted ("no usable images").
SplitData finish_image_source(StreamSplitter& splitter, const RejectLog& rejects, std::vector<std::string> class_names,
                              std::vector<SourceFile> files, const DataOptions& options, const DataContext& context,
                              const std::string& nothing);

}  // namespace stratum::data
