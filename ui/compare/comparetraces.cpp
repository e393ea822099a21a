#include "compare/comparetraces.hpp"

namespace memlife::ui {

data::Comparison compareTraces(const LoadedTrace& base, const LoadedTrace& next,
                               data::ProfileOptions options, const JobControl& job) {
    options.stop = [&job] { return job.canceled(); };
    // Both traces' events are decoded, one after the other: the base is the first half.
    const auto profile = [&](const LoadedTrace& trace, int from) {
        options.progress = [&job, from](int percent) { job.progress(from + percent / 2); };
        return trace.readers->use(
            [&](const data::TraceReader& reader) { return data::profile_trace(reader, options); });
    };
    data::TraceProfile before = profile(base, 0);
    data::TraceProfile after = profile(next, 50);
    return data::compare(std::move(before), std::move(after));
}

} // namespace memlife::ui
