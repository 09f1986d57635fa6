// Splitting text into words or list items, without iostreams: a stringstream's first use
// initializes the C++ locale, ~0.1 ms of every `ringfence run` (docs/benchmarks.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rf {

// Words separated by runs of whitespace (as `stream >> word` in the C locale).
inline std::vector<std::string> whitespace_words(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  std::vector<std::string> words;
  for (std::size_t at = text.find_first_not_of(kSpace); at != std::string_view::npos;) {
    std::size_t end = text.find_first_of(kSpace, at);
    words.emplace_back(text.substr(at, end - at));
    at = end == std::string_view::npos ? end : text.find_first_not_of(kSpace, end);
  }
  return words;
}

// The non-empty items of a `separator`-separated list ("a::b:" → a, b).
inline std::vector<std::string> split_list(std::string_view text, char separator) {
  std::vector<std::string> items;
  while (!text.empty()) {
    std::size_t end = text.find(separator);
    if (std::string_view item = text.substr(0, end); !item.empty())
      items.emplace_back(item);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return items;
}

} // namespace rf
