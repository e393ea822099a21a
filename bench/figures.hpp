// Benchmarks report figures, not raw times: each figure is a value measured against a
// baseline in the same run (this machine is shared and noisy; absolute times drift).
// A bench program registers Google Benchmark cases, then names figures as pairs of cases:
//   figure("alloc_mem_vs_malloc", "BM_AllocMem", "BM_MallocFree", "ns");
// and run_figures() prints one line per figure:  name  value  unit  baseline  ratio
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace memlife::bench {

struct Figure {
    std::string name, measured, baseline, unit;
    // Optional: turns the two per-iteration times (ns) into value and baseline.
    std::function<void(double measured_ns, double baseline_ns, double& value, double& base)>
        convert;
};

inline std::vector<Figure>& figures() {
    static std::vector<Figure> list;
    return list;
}

inline void figure(std::string name, std::string measured, std::string baseline,
                   std::string unit = "ns") {
    figures().push_back(
        {std::move(name), std::move(measured), std::move(baseline), std::move(unit), {}});
}

// A figure printed directly (value and baseline computed by the caller).
inline void print_figure(const std::string& name, double value, const std::string& unit,
                         double baseline) {
    std::printf("%-36s %14.3f %-10s %14.3f %10.3f\n", name.c_str(), value, unit.c_str(), baseline,
                baseline != 0 ? value / baseline : 0.0);
    std::fflush(stdout);
}

class CaptureReporter : public benchmark::ConsoleReporter {
public:
    std::map<std::string, double> ns_per_iteration;
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs) {
            if (r.error_occurred) continue;
            ns_per_iteration[r.benchmark_name()] =
                r.GetAdjustedRealTime() * (r.time_unit == benchmark::kNanosecond    ? 1.0
                                           : r.time_unit == benchmark::kMicrosecond ? 1e3
                                           : r.time_unit == benchmark::kMillisecond ? 1e6
                                                                                    : 1e9);
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

inline int run_figures(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    CaptureReporter reporter;
    reporter.SetOutputStream(&std::cerr); // raw Google Benchmark table goes to stderr
    reporter.SetErrorStream(&std::cerr);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    for (const Figure& f : figures()) {
        auto m = reporter.ns_per_iteration.find(f.measured);
        auto b = reporter.ns_per_iteration.find(f.baseline);
        if (m == reporter.ns_per_iteration.end() || b == reporter.ns_per_iteration.end()) continue;
        double value = m->second, base = b->second;
        if (f.convert) f.convert(m->second, b->second, value, base);
        print_figure(f.name, value, f.unit, base);
    }
    benchmark::Shutdown();
    return 0;
}

} // namespace memlife::bench
