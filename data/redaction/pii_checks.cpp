#include "data/redaction/pii_checks.h"

#include <arpa/inet.h>

#include <cctype>

namespace stratum::data {

std::string digits_of(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

bool luhn_valid(const std::string& text) {
  const std::string digits = digits_of(text);
  if (digits.size() < 13 || digits.size() > 19) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool iban_valid(const std::string& text) {
  std::string code;
  for (const char c : text) {
    if (c != ' ') code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (code.size() < 15 || code.size() > 34) return false;
  if (!std::isupper(static_cast<unsigned char>(code[0])) || !std::isupper(static_cast<unsigned char>(code[1])) ||
      !std::isdigit(static_cast<unsigned char>(code[2])) || !std::isdigit(static_cast<unsigned char>(code[3]))) {
    return false;
  }
  // The first four characters move to the end; letters count as 10..35; the remainder is
  // taken digit by digit so no big number is needed.
  const std::string moved = code.substr(4) + code.substr(0, 4);
  int remainder = 0;
  for (const char c : moved) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else if (std::isupper(static_cast<unsigned char>(c))) {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

bool ipv6_valid(const std::string& text) {
  if (text.size() < 2 || text.size() > 45) return false;
  in6_addr address;
  return inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

bool phone_valid(const std::string& text) {
  const size_t n = digits_of(text).size();
  return n >= 7 && n <= 15;
}

}  // namespace stratum::data
