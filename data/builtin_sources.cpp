#include "data/builtin_sources.h"

#include "data/sources/idx_source.h"
#include "data/sources/image_folder_source.h"
#include "data/sources/image_list_source.h"
#include "data/sources/synthetic_source.h"
#include "data/sources/text_source.h"
#include "data/sources/token_shard_source.h"
#include "data/sources/webdataset_source.h"

namespace stratum::data {

void register_builtin_sources(SourceRegistry& registry) {
  registry.add({"idx", "MNIST-style IDX image folder (train-* and t10k-*, raw or .gz)",
                             &read_idx_source});
  registry.add({"image_folder", "JPEG / PNG / WebP images in ROOT/CLASS/ folders, decoded, resized and augmented",
                             &read_image_folder_source});
  registry.add({"image_list", "a CSV or JSONL list of image paths (relative to the list) and their label(s)",
                             &read_image_list_source});
  registry.add({"synthetic", "drifting Gaussian-class feature stream with injectable corrupt records",
                             &read_synthetic_source});
  registry.add({"text", "labeled text lines or JSONL records from a file or standard input (-)",
                             &read_text_source});
  registry.add({"parquet", "rows of Parquet files read like JSONL records (data.text's fields), a batch at a time",
                             &read_parquet_source});
  registry.add({"fortunes", "the fortunes corpus: file name = label, records separated by % lines",
                             &read_fortunes_source});
  registry.add({"token_shards", "token shards written by stratum data prepare, read through memory maps in windows",
                             &read_token_shard_source});
  registry.add({"webdataset", "WebDataset tar shards: an image and a .cls / .txt / .json label per sample key",
                             &read_webdataset_source});
  registry.add({"weak_labels", "JSONL items labeled by combining labeling functions' votes (data.weak_labels)",
                             &read_weak_label_source});
}

}  // namespace stratum::data
