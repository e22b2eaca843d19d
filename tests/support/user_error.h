#pragma once
// Runs a callable and returns the message of the UserError it throws ("" when it throws none),
// so tests can compare exact one-line error messages.

#include <string>

#include "core/error.h"

namespace stratum::testing {

template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

}  // namespace stratum::testing
