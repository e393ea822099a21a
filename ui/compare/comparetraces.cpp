#include "compare/comparetraces.hpp"

namespace memlife::ui {

data::Comparison compareTraces(const LoadedTrace& base, const LoadedTrace& next,
                               data::ProfileOptions options, const JobControl& job) {
    options.stop = [&job] { return job.canceled(); };
    const auto profile = [&](const LoadedTrace& trace) {
        return trace.readers->use(
            [&](const data::TraceReader& reader) { return data::profile_trace(reader, options); });
    };
    data::TraceProfile before = profile(base);
    data::TraceProfile after = profile(next);
    return data::compare(std::move(before), std::move(after));
}

} // namespace memlife::ui
