// What `memlife diff` and `memlife check --baseline` share: reading two traces into a
// comparison (memlife/data/compare.hpp), and writing it as text or JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "memlife/data/compare.hpp"

namespace memlife::cli {

// A percentage: finite and not negative ("--tolerance 5", "--noise 2.5").
extern const CLI::Validator kPercent;

// Profiles BASE and NEW and compares them. Throws data::TraceError naming the file.
data::Comparison compare_files(const std::string& base, const std::string& next,
                               const data::ProfileOptions& profile,
                               const data::CompareOptions& options);

// Side by side with the change and its verdict; at most `top_sites` allocation sites.
std::string comparison_text(const data::Comparison& c, std::size_t top_sites);
nlohmann::json comparison_json(const data::Comparison& c, std::size_t top_sites);

// `memlife check --baseline BASE NEW`: one line per regression; kOk, kFindings or kUnusable.
int check_against_baseline(const std::string& base, const std::string& next,
                           double tolerance_percent, bool quiet);

} // namespace memlife::cli
