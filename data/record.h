#pragma once
// One record of a stream, as sources produce it and reservoirs keep it.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// Where a record came from: which source and where in it.
struct Provenance {
  uint32_t source = 0;  ///< index into the run's list of sources (see the manifest)
  uint64_t offset = 0;  ///< byte offset in its file (line sources too), or the index of a generated record
};

/// A labeled example: raw payload (image bytes or UTF-8 text), optional numeric features,
/// label ids (the first is the primary label), a timestamp, its provenance and the values of
/// the fields evaluation slices by.
struct Record {
  std::string payload;
  std::vector<float> features;
  std::vector<int32_t> labels;
  double time = 0;  ///< timestamp, or arrival index when the source has none
  Provenance origin;
  /// DataContext::slice_fields' values in that order, each as its JSON text ("\"north\"", "42");
  /// empty where the record lacks the field.
  std::vector<std::string> fields;

  /// Bytes this record accounts for under the reservoirs' byte cap. Computed from sizes,
  /// not allocator capacities, so a restored sampler counts exactly what the original did.
  size_t bytes() const {
    size_t field_bytes = 0;
    for (const std::string& f : fields) field_bytes += sizeof(std::string) + f.size();
    return sizeof(Record) + payload.size() + features.size() * sizeof(float) + labels.size() * sizeof(int32_t) +
           field_bytes;
  }
};

}  // namespace stratum::data
