// ExecStart= and Environment= word syntax, as systemd's extract_first_word() with
// EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE, and $VAR / ${VAR} expansion at launch.
#pragma once

#include "policy/policy.hpp"
#include "util/result.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rf::unit {

// Splits on whitespace, honouring "double" and 'single' quotes and C escapes.
Result<std::vector<std::string>> split_words(std::string_view text);

// Parses one ExecStart= value (after specifier expansion): prefixes '-', '@' and ':' as
// systemd; '+', '!' and '!!' (less sandboxing) are refused.
Result<ExecCommand> parse_exec_command(std::string_view value);

// systemd's replace_env_argv(): a word that is exactly $NAME becomes the variable's value
// split at whitespace (no words if unset); ${NAME} anywhere is replaced inline; $$ is '$'.
std::vector<std::string> expand_argv(const std::vector<std::string> &words,
                                     const std::map<std::string, std::string> &env);

bool valid_env_name(std::string_view name);

} // namespace rf::unit
