// memlife: the command line. Each subcommand lives in its own file (cmd_*.cpp).
#include <exception>
#include <fmt/format.h>
#include <vector>

#include "cli.hpp"
#include "memlife/memlife.h"

int main(int argc, char** argv) {
    using namespace memlife::cli;
    CLI::App app{"memlife - memory lifetimes in connection-oriented servers.\n"
                 "Exit codes: 0 ok/clean, 1 findings (check), 2 unusable input or arguments, "
                 "3 the work failed."};
    app.set_version_flag("--version", std::string(ml_version()));
    app.require_subcommand(1);
    app.fallthrough(false);
    std::vector<Command> commands{add_simulate(app),  add_serve(app), add_import(app),
                                  add_report(app),    add_check(app), add_diff(app),
                                  add_export(app),    add_sql(app),   add_record(app),
                                  add_symbolize(app), add_top(app)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // CLI11's own message, on one line, then the usage exit code.
        fmt::print(stderr, "memlife: {}\nRun with --help for more information.\n", e.what());
        return kUnusable;
    }
    for (const Command& c : commands) {
        if (!c.app->parsed()) continue;
        try {
            return c.run();
        } catch (const std::exception& e) {
            return error(c.app->get_name(), e.what(), kFailed);
        }
    }
    return kUnusable;
}
