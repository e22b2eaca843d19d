#pragma once
// Runs fuzz cases and keeps score: each case must either succeed or end in a UserError whose
// message is one line; anything else (another exception type, a multi-line message) fails the
// test with the case number. A crash or a hang fails it too (the process dies or ctest times
// it out), so the fixed seeds reproduce it.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/error.h"

namespace stratum::testing {

/// Counts of one fuzz test's outcomes.
class FuzzTally {
 public:
  explicit FuzzTally(std::string kind) : kind_(std::move(kind)) {}
  ~FuzzTally() {
    std::printf("fuzz %s: %d cases, %d accepted, %d refused with a user error\n", kind_.c_str(), cases_, accepted_, refused_);
  }

  /// Runs case `index`; `describe` says what the input was when the case fails.
  template <class F>
  void run(int index, F&& f, const std::string& describe = "") {
    ++cases_;
    try {
      f();
      ++accepted_;
    } catch (const UserError& e) {
      ++refused_;
      const std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << kind_ << " case " << index << ": multi-line message: " << message;
    } catch (const std::exception& e) {
      ADD_FAILURE() << kind_ << " case " << index << ": not a user error: " << e.what() << "\n" << describe.substr(0, 400);
    }
  }

  int cases() const { return cases_; }
  int refused() const { return refused_; }

 private:
  std::string kind_;
  int cases_ = 0, accepted_ = 0, refused_ = 0;
};

}  // namespace stratum::testing
