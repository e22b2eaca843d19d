// ParquetRows in a build configured without Arrow's C++ libraries: every use says how to get them.
#include "data/sources/parquet_rows.h"

#include "core/error.h"

namespace stratum::data {

struct ParquetRows::State {};

ParquetRows::ParquetRows(const std::string& path, const std::vector<std::string>&, const std::vector<std::string>&) {
  throw UserError("data.path: " + path + ": this Stratum was built without Parquet support (Apache Arrow's C++ "
                  "libraries come with pyarrow: run scripts/setup.sh, then scripts/build.sh)");
}

ParquetRows::~ParquetRows() = default;

bool ParquetRows::next(ParquetRow&) { return false; }

int64_t ParquetRows::declared_rows() const { return 0; }

bool parquet_available() { return false; }

}  // namespace stratum::data
