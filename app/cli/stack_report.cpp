#include "stack_report.hpp"

#include <fmt/format.h>

#include "memlife/data/units.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {

namespace {

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A frame name fit for the collapsed format: ';' separates frames there, a line break ends
// the line, and the last space before the number separates it.
std::string collapsed_name(const data::StackFrame& f) {
    std::string name = data::frame_name(f);
    for (char& c : name)
        if (c == ';' || c == '\n' || c == '\r') c = '_';
    return name;
}

} // namespace

StackReport stack_report(const std::string& path, std::size_t top) {
    data::StackReader reader(path);
    StackReport report;
    report.path = path;
    report.status = reader.status();
    const std::vector<data::StackCost> all =
        reader.top_stacks({.order = data::StackOrder::LiveAtEnd});
    report.total = all.size();
    for (std::size_t i = 0; i < all.size() && (top == 0 || i < top); ++i)
        report.stacks.push_back({all[i], reader.frames(all[i].stack)});
    return report;
}

nlohmann::json to_json(const StackReport& report) {
    nlohmann::json stacks = nlohmann::json::array();
    for (const StackReport::Entry& e : report.stacks) {
        nlohmann::json frames = nlohmann::json::array();
        for (const data::StackFrame& f : e.frames)
            frames.push_back({{"function", data::frame_name(f)},
                              {"file", f.file},
                              {"line", f.line},
                              {"module", f.module}});
        stacks.push_back({{"frames", std::move(frames)},
                          {"bytes_allocated", e.cost.bytes_allocated},
                          {"bytes_live_at_end", e.cost.bytes_live_at_end},
                          {"growth_bytes_per_request", e.cost.growth_bytes_per_request},
                          {"blocks", e.cost.blocks},
                          {"leaks", e.cost.leaks},
                          {"corruptions", e.cost.corruptions}});
    }
    return {{"stacks", std::move(stacks)}};
}

std::string frame_summary(const std::vector<data::StackFrame>& frames) {
    if (frames.empty()) return "(no frames)";
    const data::StackFrame& f = frames.front();
    const std::string where = data::frame_location(f);
    return escape_for_terminal(data::frame_name(f), 200) +
           (where.empty() ? "" : " (" + escape_for_terminal(where, 200) + ")");
}

std::string to_text(const StackReport& r) {
    std::string out = escape_for_terminal(r.path) + ": ";
    if (!r.status.recorded) return out + r.status.reason + "\n";
    out += fmt::format("{} of {} allocating stacks, by bytes live at the end of their "
                       "sessions, then bytes allocated\n",
                       r.stacks.size(), r.total);
    for (std::size_t i = 0; i < r.stacks.size(); ++i) {
        const data::StackCost& c = r.stacks[i].cost;
        out += fmt::format("\n#{}  live at end {}  allocated {} in {} blocks  growth {}/request",
                           i + 1, data::format_bytes(static_cast<double>(c.bytes_live_at_end)),
                           data::format_bytes(static_cast<double>(c.bytes_allocated)), c.blocks,
                           data::format_bytes(c.growth_bytes_per_request));
        if (c.leaks != 0) out += fmt::format("  {} leaks", c.leaks);
        if (c.corruptions != 0) out += fmt::format("  {} corruptions", c.corruptions);
        out += "\n";
        for (const data::StackFrame& f : r.stacks[i].frames) {
            const std::string where = data::frame_location(f);
            out += fmt::format("    {}{}  {}{}\n", f.inlined ? "(inlined) " : "",
                               escape_for_terminal(data::frame_name(f), 200),
                               escape_for_terminal(where.empty() ? "" : where + "  ", 200),
                               escape_for_terminal(base_name(f.module), 100));
        }
    }
    return out;
}

void write_collapsed(const std::string& path, CollapsedWeight weight, std::ostream& out) {
    data::StackReader reader(path);
    if (const data::StacksStatus status = reader.status(); !status.recorded)
        throw data::TraceError(data::TraceError::Kind::Usage, path, status.reason);
    reader.for_each_stack(
        {.order = weight == CollapsedWeight::Allocated ? data::StackOrder::Allocated
                                                       : data::StackOrder::LiveAtEnd},
        [&](const data::StackCost& c) {
            const std::uint64_t w =
                weight == CollapsedWeight::Allocated ? c.bytes_allocated : c.bytes_live_at_end;
            if (w == 0) return true;
            const std::vector<data::StackFrame> frames = reader.frames(c.stack);
            std::string line;
            for (auto f = frames.rbegin(); f != frames.rend(); ++f)
                line.append(line.empty() ? "" : ";").append(collapsed_name(*f));
            out << line << ' ' << w << '\n';
            return static_cast<bool>(out);
        });
}

} // namespace memlife::cli
