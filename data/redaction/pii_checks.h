#pragma once
// The checks that turn a regular-expression candidate into a finding: a 16-digit run is a card
// number only when its Luhn digit checks out, a code is an IBAN only when mod 97 gives 1.

#include <string>

namespace stratum::data {

/// The digits of `text` (everything else skipped).
std::string digits_of(const std::string& text);

/// Luhn checksum over the digits of `text`, 13 to 19 of them (payment card numbers).
bool luhn_valid(const std::string& text);

/// ISO 13616 IBAN: 15 to 34 letters and digits (spaces ignored), country letters, check digits,
/// and the number mod 97 equal to 1.
bool iban_valid(const std::string& text);

/// An IPv6 address in any textual form inet_pton accepts (with "::", an embedded IPv4 tail).
bool ipv6_valid(const std::string& text);

/// A phone number: 7 to 15 digits (E.164's most).
bool phone_valid(const std::string& text);

}  // namespace stratum::data
