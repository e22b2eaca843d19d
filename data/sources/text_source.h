#pragma once
// Text sources: labeled lines ("label<TAB>text"), JSONL records with configurable fields, and
// the fortunes corpus (file name = label, records separated by "%" lines). All read
// incrementally; a path of "-" reads standard input.

#include <memory>
#include <optional>
#include <string>

#include "data/data_options.h"
#include "data/label_vocabulary.h"
#include "data/record.h"
#include "data/split_data.h"

namespace stratum::data {

class Tokenizer;

/// The tokenizer `data.tokenizer.path` names (see load_tokenizer; a UserError naming it when
/// unreadable), or null for one token per byte.
std::shared_ptr<const Tokenizer> configured_tokenizer(const TokenizerOptions& options);

/// What the text sources' examples are: `data.text.max_length` token ids of `tokenizer`'s
/// vocabulary with its padding id, or bytes and padding id 256 without one.
DataSpec text_spec(const DataOptions& options, const Tokenizer* tokenizer);

/// Parses one line of a `text` source into `record` (labels through `labels`). Returns the
/// reason the line must be rejected, or nothing when it is usable. Without `need_label`, a
/// record may carry no label (documents for `stratum data prepare`). A JSONL record keeps the
/// values of `fields` (see DataContext::slice_fields).
std::optional<std::string> parse_text_line(const std::string& line, const TextOptions& options,
                                           LabelVocabulary& labels, Record& record, bool need_label = true,
                                           const std::vector<std::string>& fields = {});

/// source: text — `data.path` is a file or "-"; `data.text` says the format.
SplitData read_text_source(const DataOptions& options, const DataContext& context);

/// source: parquet — `data.path` is a Parquet file or a pattern of them; each row is read like
/// a JSONL record with `data.text`'s fields (lists of strings for several labels, structs for
/// dotted slice fields), decoding only those columns, one record batch at a time.
SplitData read_parquet_source(const DataOptions& options, const DataContext& context);

/// source: fortunes — `data.path` is a folder of fortune files (or one file); each record is
/// labeled with its file's name.
SplitData read_fortunes_source(const DataOptions& options, const DataContext& context);

/// source: weak_labels — `data.path` is a JSONL file of unlabeled items (`data.text.text_field`
/// and `data.weak_labels.item_field`); each item's label is the combination of the labeling
/// functions' votes in `data.weak_labels.votes`. Items without votes, without a combined label
/// (all abstained, or a tie) or below `min_confidence` are rejected with the reason.
SplitData read_weak_label_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
