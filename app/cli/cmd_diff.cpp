// memlife diff BASE NEW [--json] [--group-by peer|GLOB]...: did the fix stop the growth?
#include <iostream>

#include "cli.hpp"
#include "compare_cli.hpp"

namespace memlife::cli {

Command add_diff(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "diff", "Compare two traces side by side: sessions, peaks, growth per request, leaks, "
                "corruptions, by notification and by allocation site, with each change");
    struct Args {
        std::string base, next;
        bool json = false;
        std::vector<std::string> group_by;
        double noise = 5;
        std::size_t top = 10;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("BASE", a->base, "The trace before (SQLite)")->required();
    cmd->add_option("NEW", a->next, "The trace after")->required();
    cmd->add_flag("--json", a->json, "Machine-readable JSON on stdout");
    cmd->add_option("--group-by", a->group_by,
                    "Compare groups of sessions: 'peer' (by peer address) or a glob over the "
                    "peer label (repeatable: one group per glob, the rest in '(other)')")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--noise", a->noise,
                    "A change within this percentage of the base value is shown as 'same'")
        ->check(kPercent)
        ->capture_default_str();
    cmd->add_option("--top", a->top, "Allocation sites shown (largest change first)")
        ->capture_default_str();
    return {cmd, [a]() -> int {
                data::Comparison c;
                try {
                    data::ProfileOptions profile;
                    profile.group_by = data::GroupBy::parse(a->group_by);
                    c = compare_files(a->base, a->next, profile, {.noise_percent = a->noise});
                } catch (const data::TraceError& e) {
                    return error("diff", e.what(), kUnusable);
                }
                if (a->json)
                    std::cout << comparison_json(c, a->top).dump(
                                     2, ' ', false, nlohmann::json::error_handler_t::replace)
                              << '\n';
                else
                    std::cout << comparison_text(c, a->top);
                return kOk;
            }};
}

} // namespace memlife::cli
