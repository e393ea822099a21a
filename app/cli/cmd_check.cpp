// memlife check TRACE [--max-growth BYTES]: a CI gate.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli.hpp"
#include "compare_cli.hpp"
#include "finding_lines.hpp"
#include "memlife/data/findings.hpp"
#include "memlife/data/units.hpp"
#include "stack_report.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {

namespace {

// Lines listed per kind of finding (a trace may hold millions of leaks).
constexpr std::size_t kMaxLines = 20;

// A byte count ("nan" would be a limit no growth exceeds).
const CLI::Validator kByteLimit = non_negative_number("a number of bytes", "BYTES");

// "; N of them from FUNCTION (FILE:LINE)": the stack that grows `session` most; "" when
// none grows.
std::string growing_stack(const data::StackReader& stacks, std::uint64_t session) {
    const auto top =
        stacks.top_stacks({.sessions = {session}, .order = data::StackOrder::Growth, .limit = 1});
    if (top.empty() || !(top[0].growth_bytes_per_request > 0)) return {};
    return fmt::format("; {:.1f} of them from {}", top[0].growth_bytes_per_request,
                       frame_summary(stacks.frames(top[0].stack)));
}

// "; from FUNCTION (FILE:LINE)": the allocating stack of a block that outlived its
// connection (memlife record), from the block's Alloc event; "" when it has none. Each
// session's blocks are read once.
class OutlivedStacks {
public:
    OutlivedStacks(const std::string& trace, const data::StackReader& stacks)
        : reader_(trace), stacks_(stacks) {}
    std::string of(const data::OutlivedRow& o) {
        if (o.session != session_) {
            session_ = o.session;
            block_stacks_.clear();
            reader_.for_each_block(o.session, [&](const data::BlockRow& b) {
                if (b.stack != 0) block_stacks_[b.id] = b.stack;
                return true;
            });
        }
        const auto found = block_stacks_.find(o.block);
        if (found == block_stacks_.end()) return {};
        return "; from " + frame_summary(stacks_.frames(found->second));
    }

private:
    data::TraceReader reader_;
    const data::StackReader& stacks_;
    std::uint64_t session_ = 0;
    std::unordered_map<std::uint64_t, std::uint64_t> block_stacks_; // block -> stack
};

} // namespace

Command add_check(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "check", "Exit 0 when the trace is clean, 1 on corruptions, leaks, order violations or "
                 "growth above --max-growth, 2 when the input is unusable or an incomplete "
                 "recording");
    auto trace = std::make_shared<std::string>();
    auto max_growth = std::make_shared<double>(-1); // negative: no growth limit
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_option("--max-growth", *max_growth,
                    "Largest allowed growth per request of any session, in bytes")
        ->check(kByteLimit);
    cmd->add_flag("-q,--quiet", *quiet, "Print nothing; the exit code tells");
    // --baseline BASE: a separate gate, against an earlier trace (compare_cli.cpp).
    auto baseline = std::make_shared<std::string>();
    auto tolerance = std::make_shared<double>(5);
    auto* baseline_option =
        cmd->add_option("--baseline", *baseline,
                        "Instead: exit 1 when growth per request (p95), leaked bytes or "
                        "corruptions rose above this earlier trace's");
    cmd->add_option("--tolerance", *tolerance,
                    "With --baseline: the rise allowed, in percent of the baseline's value")
        ->check(kPercent)
        ->needs(baseline_option)
        ->capture_default_str();
    baseline_option->excludes("--max-growth");
    return {
        cmd, [trace, max_growth, quiet, baseline, tolerance]() -> int {
            if (!baseline->empty())
                return check_against_baseline(*baseline, *trace, *tolerance, *quiet);
            TraceSummary s;
            try {
                s = summarize(*trace);
            } catch (const data::TraceError& e) {
                return error("check", e.what(), kUnusable);
            }
            // One line per finding, grouped by kind under a line with the kind's count;
            // a kind with very many findings lists the first kMaxLines.
            std::vector<std::string> lines;
            std::size_t findings = 0;
            auto group = [&](std::string heading, std::size_t count, auto&& line_of) {
                if (count == 0) return;
                findings += count;
                lines.push_back(std::move(heading));
                for (std::size_t i = 0; i < std::min(count, kMaxLines); ++i)
                    lines.push_back("  " + line_of(i));
                if (count > kMaxLines)
                    lines.push_back(fmt::format("  ... and {} more", count - kMaxLines));
            };
            group(fmt::format("{} corruption(s)", s.corruptions.size()), s.corruptions.size(),
                  [&](std::size_t i) { return corruption_line(s.corruptions[i]); });
            group(fmt::format("{} leak(s), {} leaked", s.leaks.size(),
                              data::format_bytes(double(s.totals.leaked_bytes))),
                  s.leaks.size(), [&](std::size_t i) { return leak_line(s.leaks[i]); });
            // The trace's stacks, opened once for the lines that name one (outlived blocks,
            // growing sessions); null when it has none.
            std::optional<data::StackReader> stack_reader;
            bool stacks_opened = false;
            const auto stacks = [&]() -> const data::StackReader* {
                if (!stacks_opened) {
                    stacks_opened = true;
                    stack_reader.emplace(*trace);
                    if (!stack_reader->status().recorded) stack_reader.reset();
                }
                return stack_reader ? &*stack_reader : nullptr;
            };
            try {
                std::optional<OutlivedStacks> outlived_stacks;
                if (!s.outlived.empty() && stacks() != nullptr)
                    outlived_stacks.emplace(*trace, *stacks());
                group(fmt::format("{} block(s) outlived their connection, {}", s.outlived.size(),
                                  data::format_bytes(double(s.totals.outlived_bytes))),
                      s.outlived.size(), [&](std::size_t i) {
                          return outlived_line(s.outlived[i]) +
                                 (outlived_stacks ? outlived_stacks->of(s.outlived[i]) : "");
                      });
            } catch (const data::TraceError& e) {
                return error("check", e.what(), kUnusable);
            }
            group(fmt::format("{} order violation(s)", s.violations.size()), s.violations.size(),
                  [&](std::size_t i) { return violation_line(s.violations[i]); });
            if (*max_growth >= 0) {
                std::vector<const data::SessionRow*> growing;
                for (const auto& row : s.sessions)
                    if (data::grows_beyond(row, *max_growth)) growing.push_back(&row);
                // Each names the stack that grows it most, when the trace has stacks.
                try {
                    const data::StackReader* growth_stacks = growing.empty() ? nullptr : stacks();
                    group(fmt::format("{} session(s) grow more than {:.1f} bytes per request",
                                      growing.size(), *max_growth),
                          growing.size(), [&](std::size_t i) {
                              return fmt::format("session {} grows {:.1f} bytes per request{}",
                                                 growing[i]->id,
                                                 growing[i]->growth_bytes_per_request,
                                                 growth_stacks != nullptr
                                                     ? growing_stack(*growth_stacks, growing[i]->id)
                                                     : std::string());
                          });
                } catch (const data::TraceError& e) {
                    return error("check", e.what(), kUnusable);
                }
            }
            // A recording that did not finish cannot be called clean: its end is missing.
            const std::string incomplete = data::completeness_note(s.info);
            if (!*quiet) {
                if (findings == 0 && incomplete.empty())
                    fmt::print("{}: clean ({} sessions, {} requests)\n", *trace, s.totals.sessions,
                               s.totals.requests);
                for (const auto& line : lines)
                    fmt::print("{}: {}\n", *trace, line);
            }
            if (!incomplete.empty()) return error("check", *trace + ": " + incomplete, kUnusable);
            return findings == 0 ? kOk : kFindings;
        }};
}

} // namespace memlife::cli
