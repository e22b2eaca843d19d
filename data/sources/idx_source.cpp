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
    std::error_code ec;
    if (fs::exists(p, ec)) return p.string();
  }
  throw UserError("data.path: " + dir + ": no " + stem + " or " + stem + ".gz");
}

// One image file and its label file, read in lockstep as a stream of records. Record i is
// image row i with label row i; every record either file declares is accounted exactly once:
// accepted, or rejected with the first reason that applies to it.
class IdxPair {
 public:
  IdxPair(const std::string& dir, const std::string& prefix, RejectLog& rejects, int64_t classes)
      : prefix_(prefix),
        images_path_(find_idx_file(dir, prefix + "-images-idx3-ubyte")),
        labels_path_(find_idx_file(dir, prefix + "-labels-idx1-ubyte")),
        images_(images_path_, IdxDamage::report),
        labels_(labels_path_, IdxDamage::report),
        rejects_(rejects),
        classes_(classes) {
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

  // The next accepted record; false at the end of the pairs, after accounting for every
  // record that could not be paired or read.
  bool next(Record& record, uint32_t source) {
    while (!finished_) {
      const int64_t index = images_.rows_read();
      const bool image = images_.next(image_);
      const bool label = image && labels_.next(label_);
      if (!label) {
        finish();
        return false;
      }
      const int32_t id = static_cast<unsigned char>(label_[0]);
      if (id >= classes_) {
        reject(labels_path_, labels_.row_offset(index), "label " + std::to_string(id) + " is not one of the " +
                                                           std::to_string(classes_) + " classes (0-" +
                                                           std::to_string(classes_ - 1) + ")", 1);
        continue;
      }
      record.payload = image_;
      record.labels.assign(1, id);
      record.time = static_cast<double>(index);
      record.origin = {source, images_.row_offset(index)};
      return true;
    }
    return false;
  }

  // The files' counts, given how many of the records were taken (a max_records cut or a
  // stream shard takes fewer than were read).
  std::vector<SourceFile> files(int64_t accepted) const {
    const auto file = [&](const std::string& role, const std::string& path, int64_t rejected) {
      SourceFile f;
      f.role = prefix_ + role;
      f.path = path;
      f.records_read = accepted + rejected;
      f.records_accepted = accepted;
      f.records_rejected = rejected;
      return f;
    };
    return {file("-images", images_path_, images_rejected_), file("-labels", labels_path_, labels_rejected_)};
  }

 private:
  void reject(const std::string& path, uint64_t offset, const std::string& reason, int64_t records) {
    rejects_.reject(path, offset, reason, records);
    (path == images_path_ ? images_rejected_ : labels_rejected_) += records;
  }

  // Both files stopped pairing. Rows up to the larger declared count that were never paired
  // are rejected once, charged to the file that failed (a damaged one first).
  void finish() {
    finished_ = true;
    const int64_t paired = labels_.rows_read();
    const int64_t declared = std::max(images_.rows(), labels_.rows());
    const int64_t rest = std::max<int64_t>(declared - paired, 0);
    const IdxProblem& image_damage = images_.damage();
    const IdxProblem& label_damage = labels_.damage();
    if (images_.dims().empty() || labels_.dims().empty()) {
      // A file without a usable header: what it would have paired with is lost, and at least
      // the file itself is counted.
      const bool images_bad = images_.dims().empty();
      const IdxProblem& d = images_bad ? image_damage : label_damage;
      reject(images_bad ? images_path_ : labels_path_, d.offset, d.reason, std::max<int64_t>(rest, 1));
      return;
    }
    if (rest == 0) return;
    if (!image_damage.reason.empty() && (label_damage.reason.empty() || images_.rows_read() <= labels_.rows_read())) {
      reject(images_path_, image_damage.offset, image_damage.reason, rest);
    } else if (!label_damage.reason.empty()) {
      reject(labels_path_, label_damage.offset, label_damage.reason, rest);
    } else if (images_.rows() > labels_.rows()) {
      reject(images_path_, images_.row_offset(paired), "image without a label in " + labels_path_, rest);
    } else {
      reject(labels_path_, labels_.row_offset(paired), "label without an image in " + images_path_, rest);
    }
  }

  std::string prefix_;
  std::string images_path_, labels_path_;  // declared before the readers, which open them
  IdxReader images_, labels_;
  RejectLog& rejects_;
  int64_t classes_;
  std::string image_, label_;
  bool finished_ = false;
  int64_t images_rejected_ = 0, labels_rejected_ = 0;
};

}  // namespace

SplitData read_idx_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the idx source needs the folder holding train-* and t10k-*");
  std::error_code ec;
  if (!fs::is_directory(options.path, ec)) {
    throw UserError("data.path: " + options.path + ": no such folder" + (ec ? " (" + ec.message() + ")" : std::string()));
  }
  RejectLog rejects(context.rejects_path, context.append_rejects);

  if (options.unseen.by == UnseenBy::source) {
    throw UserError("data.unseen.by: \"source\" needs a multi-file source (fortunes); use file, label or time");
  }
  // IDX labels are bytes: Fashion-MNIST's are its ten named classes (any other value is a
  // damaged record), any other data set's are their own ids.
  const bool fashion = options.path.find("fashion") != std::string::npos;
  IdxPair train(options.path, "train", rejects, fashion ? 10 : 256);
  IdxPair test(options.path, "t10k", rejects, fashion ? 10 : 256);
  const int64_t h = train.height(), w = train.width();
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

  const bool held_out_file = options.unseen.by == UnseenBy::file;
  std::vector<Record> test_records;
  if (held_out_file) {
    while (test.next(record, 1)) {
      max_label = std::max(max_label, record.labels[0]);
      test_records.push_back(record);
    }
  }
  const auto test_count = static_cast<int64_t>(test_records.size());
  rejects.check_budget(splitter.records_accepted() + test_count, options.max_reject_fraction);
  STRATUM_USER_CHECK(splitter.records_accepted() > 0,
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
  facts.unseen_description = held_out_file ? "file-backed t10k set" : "held out from the training stream by " + std::string(choice_name(options.unseen.by));
  facts.files = train.files(splitter.records_accepted());
  if (held_out_file) {
    for (auto& f : test.files(test_count)) facts.files.push_back(f);
  }
  facts.records_rejected = rejects.total();
  return assemble_splits(splitter, std::move(facts), options, context);
}

}  // namespace stratum::data
