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

// One image file and its label file, read in lockstep as a stream of records.
class IdxPair {
 public:
  IdxPair(const std::string& dir, const std::string& prefix, RejectLog& rejects)
      : prefix_(prefix),
        images_path_(find_idx_file(dir, prefix + "-images-idx3-ubyte")),
        labels_path_(find_idx_file(dir, prefix + "-labels-idx1-ubyte")),
        images_(images_path_, &rejects),
        labels_(labels_path_, &rejects),
        rejects_(rejects) {
    if (!images_.dims().empty() && images_.dims().size() != 3) {
      throw UserError(images_path_ + ": expected a 3-D image array (N, H, W), found " +
                      std::to_string(images_.dims().size()) + " dimensions");
    }
    if (!labels_.dims().empty() && labels_.dims().size() != 1) {
      throw UserError(labels_path_ + ": expected a 1-D label array");
    }
  }

  int64_t height() const { return images_.dims().empty() ? 0 : images_.dims()[1]; }
  int64_t width() const { return images_.dims().empty() ? 0 : images_.dims()[2]; }

  // The next (image, label) as a record; false at the end of either file. Then rows one file
  // declares beyond the other's are rejected as unpaired (a damaged remainder was already
  // rejected by its reader, so no record is counted twice).
  bool next(Record& record, uint32_t source) {
    const int64_t index = images_.rows_read();
    if (images_.next(image_) && labels_.next(label_)) {
      record.payload = image_;
      record.labels.assign(1, static_cast<unsigned char>(label_[0]));
      record.time = static_cast<double>(index);
      record.origin = {source, images_.row_offset(index)};
      return true;
    }
    if (!finished_) {
      finished_ = true;
      const int64_t images = images_.rows(), labels = labels_.rows();
      if (images > labels) {
        rejects_.reject(images_path_, images_.row_offset(labels), "image without a label in " + labels_path_,
                        images - labels);
      }
      if (labels > images) {
        rejects_.reject(labels_path_, labels_.row_offset(images), "label without an image in " + images_path_,
                        labels - images);
      }
    }
    return false;
  }

  std::vector<SourceFile> files(int64_t read) const {
    const auto rejected = [&](const std::string& path) {
      const auto it = rejects_.by_source().find(path);
      return it == rejects_.by_source().end() ? int64_t{0} : it->second;
    };
    return {{prefix_ + "-images", images_path_, read, read, rejected(images_path_)},
            {prefix_ + "-labels", labels_path_, read, read, rejected(labels_path_)}};
  }

 private:
  std::string prefix_;
  std::string images_path_, labels_path_;  // declared before the readers, which open them
  IdxReader images_, labels_;
  RejectLog& rejects_;
  std::string image_, label_;
  bool finished_ = false;
};

}  // namespace

SplitData read_idx_source(const DataSection& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the idx source needs the folder holding train-* and t10k-*");
  if (!fs::is_directory(options.path)) throw UserError("data.path: " + options.path + ": no such folder");
  RejectLog rejects(context.rejects_path);

  IdxPair train(options.path, "train", rejects);
  IdxPair test(options.path, "t10k", rejects);
  const int64_t h = train.height(), w = train.width();
  if (options.unseen.by == "source") {
    throw UserError("data.unseen.by: \"source\" needs a multi-file source (fortunes); use file, label or time");
  }
  // IDX labels are bytes: Fashion-MNIST's are named, any others are their own ids.
  const bool fashion = options.path.find("fashion") != std::string::npos;
  std::vector<std::string> names;
  for (int c = 0; c < (fashion ? 10 : 256); ++c) names.push_back(fashion ? kFashionMnistClasses[c] : std::to_string(c));

  StreamSplitter splitter(options, context, {resolve_unseen_labels(options, names), {}});
  int32_t max_label = 0;
  Record record;
  for (int64_t i = 0; train.next(record, 0); ++i) {
    max_label = std::max(max_label, record.labels[0]);
    if (!splitter.add(i, record)) break;
  }
  splitter.finish();

  const bool held_out_file = options.unseen.by == "file";
  std::vector<Record> test_records;
  if (held_out_file) {
    while (test.next(record, 1)) {
      max_label = std::max(max_label, record.labels[0]);
      test_records.push_back(record);
    }
  }
  const auto test_count = static_cast<int64_t>(test_records.size());
  rejects.check_budget(splitter.records_read() + test_count, options.max_reject_fraction);
  STRATUM_USER_CHECK(splitter.records_read() > 0,
                     "data.path: " + options.path + ": the training stream has no usable records");
  if (!test_records.empty() && (test.height() != h || test.width() != w)) {
    throw UserError("data.path: " + options.path + ": t10k images are " + std::to_string(test.height()) + "x" +
                    std::to_string(test.width()) + " but train images are " + std::to_string(h) + "x" +
                    std::to_string(w));
  }

  SourceFacts facts;
  facts.spec.input_shape = {1, h, w};
  facts.spec.num_classes = fashion ? 10 : max_label + 1;
  facts.spec.class_names.assign(names.begin(), names.begin() + facts.spec.num_classes);
  for (const Record& r : test_records) facts.held_out_file.push_back(&r);
  facts.unseen_description = held_out_file ? "file-backed t10k set" : "held out from the training stream by " + options.unseen.by;
  facts.files = train.files(splitter.records_read());
  if (held_out_file) {
    for (auto& f : test.files(test_count)) facts.files.push_back(f);
  }
  facts.records_rejected = rejects.total();
  return assemble_splits(splitter, std::move(facts), options, context);
}

}  // namespace stratum::data
