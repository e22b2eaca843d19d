#include "data/sources/idx_source.h"


#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "data/sources/idx_file.h"
#include "data/reject_log.h"
#include "data/splits/assemble.h"
#include "data/splits/stream_splitter.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// Fashion-MNIST's class names in label order (from the data set's documentation).
const std::vector<std::string> kFashionMnistClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// `<dir>/<stem>.gz` or `<dir>/<stem>`, whichever exists.
std::string find_idx_file(const std::string& dir, const std::string& stem) {
  for (const std::string& candidate : {stem + ".gz", stem}) {
    const fs::path p = fs::path(dir) / candidate;
    if (fs::exists(p)) return p.string();
  }
  throw UserError("data.path: " + dir + ": no " + stem + " or " + stem + ".gz");
}

// One image file and its label file, read as a stream of records.
class IdxPair {
 public:
  IdxPair(const std::string& dir, const std::string& prefix, RejectLog& rejects)
      : images_path_(find_idx_file(dir, prefix + "-images-idx3-ubyte")),
        labels_path_(find_idx_file(dir, prefix + "-labels-idx1-ubyte")),
        images_(read_idx(images_path_, &rejects)),
        labels_(read_idx(labels_path_, &rejects)) {
    if (!images_.dims.empty() && images_.dims.size() != 3) {
      throw UserError(images_path_ + ": expected a 3-D image array (N, H, W), found " +
                      std::to_string(images_.dims.size()) + " dimensions");
    }
    if (!labels_.dims.empty() && labels_.dims.size() != 1) throw UserError(labels_path_ + ": expected a 1-D label array");
    const int64_t n_images = images_.dims.empty() ? 0 : images_.dims[0];
    const int64_t n_labels = labels_.dims.empty() ? 0 : labels_.dims[0];
    size_ = std::min(n_images, n_labels);
    // Records that have an image but no label (or the reverse) cannot be used.
    if (n_images > size_) {
      rejects.reject(images_path_, 16 + static_cast<uint64_t>(size_ * row_bytes()),
                     "image without a label in " + labels_path_, n_images - size_);
    }
    if (n_labels > size_) {
      rejects.reject(labels_path_, 8 + static_cast<uint64_t>(size_), "label without an image in " + images_path_,
                     n_labels - size_);
    }
    prefix_ = prefix;
  }

  int64_t size() const { return size_; }
  int64_t height() const { return images_.dims.empty() ? 0 : images_.dims[1]; }
  int64_t width() const { return images_.dims.empty() ? 0 : images_.dims[2]; }
  int64_t row_bytes() const { return height() * width(); }
  const uint8_t* image(int64_t i) const { return images_.values.data() + i * row_bytes(); }
  int32_t label(int64_t i) const { return labels_.values[static_cast<size_t>(i)]; }

  std::vector<SourceFile> files(int64_t accepted, int64_t read, const RejectLog& rejects) const {
    const auto rejected = [&](const std::string& path) {
      const auto it = rejects.by_source().find(path);
      return it == rejects.by_source().end() ? int64_t{0} : it->second;
    };
    return {{prefix_ + "-images", images_path_, read, accepted, rejected(images_path_)},
            {prefix_ + "-labels", labels_path_, read, accepted, rejected(labels_path_)}};
  }

 private:
  std::string images_path_, labels_path_, prefix_;
  IdxArray images_, labels_;
  int64_t size_ = 0;
};

}  // namespace

SplitData read_idx_source(const DataSection& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the idx source needs the folder holding train-* and t10k-*");
  if (!fs::is_directory(options.path)) throw UserError("data.path: " + options.path + ": no such folder");
  RejectLog rejects(context.rejects_path);

  const IdxPair train(options.path, "train", rejects);
  const IdxPair test(options.path, "t10k", rejects);
  const int64_t h = train.height(), w = train.width();

  DataSpec spec;
  spec.input_shape = {1, h, w};
  int64_t max_label = 0;
  for (int64_t i = 0; i < train.size(); ++i) max_label = std::max<int64_t>(max_label, train.label(i));
  for (int64_t i = 0; i < test.size(); ++i) max_label = std::max<int64_t>(max_label, test.label(i));
  spec.num_classes = max_label + 1;
  if (spec.num_classes == 10 && options.path.find("fashion") != std::string::npos) {
    spec.class_names = kFashionMnistClasses;
  } else {
    for (int64_t c = 0; c < spec.num_classes; ++c) spec.class_names.push_back(std::to_string(c));
  }

  if (options.unseen.by == "source") {
    throw UserError("data.unseen.by: \"source\" needs a multi-file source (fortunes); use file, label or time");
  }
  StreamSplitter splitter(options, context, {resolve_unseen_labels(options, spec.class_names), {}});
  const auto image_record = [&](const IdxPair& pair, int64_t i, uint32_t source) {
    Record record;
    record.payload.assign(reinterpret_cast<const char*>(pair.image(i)), static_cast<size_t>(h * w));
    record.labels.assign(1, pair.label(i));
    record.time = static_cast<double>(i);
    record.origin = {source, 16 + static_cast<uint64_t>(i * h * w)};
    return record;
  };
  for (int64_t i = 0; i < train.size(); ++i) {
    if (!splitter.add(i, image_record(train, i, 0))) break;
  }
  splitter.finish();
  const bool held_out_file = options.unseen.by == "file";
  rejects.check_budget(splitter.records_read() + (held_out_file ? test.size() : 0), options.max_reject_fraction);
  STRATUM_USER_CHECK(splitter.records_read() > 0,
                     "data.path: " + options.path + ": the training stream has no usable records");
  if (held_out_file && test.size() > 0 && (test.height() != h || test.width() != w)) {
    throw UserError("data.path: " + options.path + ": t10k images are " + std::to_string(test.height()) + "x" +
                    std::to_string(test.width()) + " but train images are " + std::to_string(h) + "x" +
                    std::to_string(w));
  }

  SourceFacts facts;
  facts.spec = spec;
  std::vector<Record> test_records;
  if (held_out_file) {
    for (int64_t i = 0; i < test.size(); ++i) test_records.push_back(image_record(test, i, 2));
    for (const Record& r : test_records) facts.held_out_file.push_back(&r);
    facts.unseen_description = "file-backed t10k set";
  } else {
    facts.unseen_description = "held out from the training stream by " + options.unseen.by;
  }
  facts.files = train.files(splitter.records_read(), splitter.records_read(), rejects);
  if (held_out_file) {
    for (auto& f : test.files(test.size(), test.size(), rejects)) facts.files.push_back(f);
  }
  facts.records_rejected = rejects.total();
  return assemble_splits(splitter, std::move(facts), options, context);
}

}  // namespace stratum::data
