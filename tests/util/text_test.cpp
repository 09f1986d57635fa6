// Word and list splitting (util/text.hpp), as the unit loader and directives use it.
#include "util/text.hpp"

#include <gtest/gtest.h>

namespace rf {
namespace {

using Words = std::vector<std::string>;

TEST(WhitespaceWords, SplitsOnRunsOfAnyWhitespace) {
  EXPECT_EQ(whitespace_words("  a\tb \n c\v\fd\r"), (Words{"a", "b", "c", "d"}));
  EXPECT_EQ(whitespace_words("one"), Words{"one"});
  EXPECT_TRUE(whitespace_words("").empty());
  EXPECT_TRUE(whitespace_words(" \t ").empty());
}

TEST(SplitList, DropsEmptyItems) {
  EXPECT_EQ(split_list("/a::/b:", ':'), (Words{"/a", "/b"}));
  EXPECT_EQ(split_list(":", ':'), Words{});
  EXPECT_EQ(split_list("x", ':'), Words{"x"});
  EXPECT_TRUE(split_list("", ':').empty());
}

} // namespace
} // namespace rf
