#include "charts/timescale.hpp"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

#include "memlife/data/reader.hpp"
#include "memlife/data/units.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

namespace {
constexpr std::size_t kLateMerge = 4096; // out-of-order steps held before a merge

QString tr(const char* text) {
    return QCoreApplication::translate("memlife::ui::TimeScale", text);
}
} // namespace

// --- StepIndex ---------------------------------------------------------------------------

StepIndex StepIndex::scan(const data::TraceReader& reader, std::uint64_t resolutionNs,
                          const std::atomic<bool>& canceled) {
    StepIndex index;
    index.resolution_ = std::max<std::uint64_t>(1, resolutionNs);
    // Widths are kept in offsets_ until finish() turns them into positions.
    try {
        reader.for_each_event([&](const Event& e) {
            index.add(e.time_ns);
            return !canceled.load(std::memory_order_relaxed);
        });
    } catch (const std::exception&) {
        // A damaged batch: the steps read so far stand (the views that need the damaged
        // sessions say why they cannot show them).
    }
    index.finish();
    return index;
}

StepIndex StepIndex::fromTimes(const std::vector<std::uint64_t>& times,
                               std::uint64_t resolutionNs) {
    StepIndex index;
    index.resolution_ = std::max<std::uint64_t>(1, resolutionNs);
    for (std::uint64_t t : times)
        index.add(t);
    index.finish();
    return index;
}

void StepIndex::add(std::uint64_t ns) {
    if (ns == 0) return; // not recorded
    const std::uint64_t step = ns / resolution_, width = ns % resolution_ + 1;
    if (!steps_.empty() && step == steps_.back()) {
        offsets_.back() = std::max(offsets_.back(), width);
    } else if (steps_.empty() || step > steps_.back()) {
        steps_.push_back(step);
        offsets_.push_back(width);
    } else {
        // Sessions hand their events over batch by batch: a stream may step back in time.
        late_.emplace_back(step, width);
        if (late_.size() >= kLateMerge) mergeLate();
    }
}

void StepIndex::mergeLate() {
    if (late_.empty()) return;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> all;
    all.reserve(steps_.size() + late_.size());
    for (std::size_t i = 0; i < steps_.size(); ++i)
        all.emplace_back(steps_[i], offsets_[i]);
    all.insert(all.end(), late_.begin(), late_.end());
    late_.clear();
    late_.shrink_to_fit();
    std::sort(all.begin(), all.end());
    steps_.clear();
    offsets_.clear();
    for (const auto& [step, width] : all) {
        if (!steps_.empty() && steps_.back() == step) {
            offsets_.back() = std::max(offsets_.back(), width);
        } else {
            steps_.push_back(step);
            offsets_.push_back(width);
        }
    }
}

void StepIndex::finish() {
    mergeLate();
    // Widths to positions: each step starts where the one before it ends.
    std::uint64_t position = 0;
    for (std::uint64_t& offset : offsets_) {
        const std::uint64_t width = offset;
        offset = position;
        position += width;
    }
    offsets_.push_back(position);
}

double StepIndex::position(std::uint64_t ns) const {
    if (steps_.empty()) return 0;
    const std::uint64_t step = ns / resolution_;
    const auto it = std::lower_bound(steps_.begin(), steps_.end(), step);
    const auto i = static_cast<std::size_t>(it - steps_.begin());
    if (it == steps_.end() || *it != step) return double(offsets_[i]);
    const std::uint64_t order = ns % resolution_;
    return double(offsets_[i] + std::min(order, offsets_[i + 1] - offsets_[i] - 1));
}

std::uint64_t StepIndex::time(double position) const {
    if (steps_.empty()) return 0;
    const double p = std::max(0.0, position);
    // The last step starting at or before p.
    auto it = std::upper_bound(offsets_.begin(), offsets_.end() - 1, std::uint64_t(p));
    const auto i = static_cast<std::size_t>(std::max<std::ptrdiff_t>(1, it - offsets_.begin()) - 1);
    const std::uint64_t widthLeft = offsets_[i + 1] - offsets_[i] - 1;
    const std::uint64_t order =
        std::min(std::uint64_t(p) - std::min(std::uint64_t(p), offsets_[i]), widthLeft);
    return steps_[i] * resolution_ + order;
}

std::size_t StepIndex::stepAtOrAfter(double position) const {
    if (steps_.empty()) return 0;
    const auto it =
        std::lower_bound(offsets_.begin(), offsets_.end() - 1, position,
                         [](std::uint64_t offset, double p) { return double(offset) < p; });
    return static_cast<std::size_t>(it - offsets_.begin());
}

// --- TimeScale ---------------------------------------------------------------------------

TimeScale TimeScale::measured(std::uint64_t originNs, AxisUnit unit) {
    TimeScale scale;
    scale.origin_ = originNs;
    scale.unit_ = std::move(unit);
    return scale;
}

TimeScale TimeScale::ordered(std::uint64_t originNs, std::shared_ptr<const StepIndex> steps) {
    TimeScale scale;
    scale.origin_ = originNs;
    scale.steps_ = std::move(steps);
    return scale;
}

TimeScale TimeScale::forTrace(const LoadedTrace& trace, double spanNs) {
    if (trace.steps && !trace.steps->empty()) return ordered(trace.firstNs(), trace.steps);
    return measured(trace.firstNs(), timeAxisUnit(spanNs));
}

double TimeScale::toX(std::uint64_t ns) const {
    if (steps_) return steps_->position(ns);
    return (double(ns) - double(origin_)) / unit_.scale;
}

std::uint64_t TimeScale::toNs(double x) const {
    if (steps_) return steps_->time(x);
    const double ns = double(origin_) + x * unit_.scale;
    return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns);
}

QString TimeScale::timeText(std::uint64_t ns) const {
    return formatTime(ns, origin_, resolution());
}

QString TimeScale::title() const {
    if (!steps_) return tr("time since trace start (%1)").arg(unit_.suffix);
    const std::uint64_t r = steps_->resolution();
    return tr("events in order, stamped to %1 (“12 s #3”: the 3rd stamp in second 12)")
        .arg(formatDuration(double(r), r));
}

double TimeScale::minSpan() const {
    return steps_ ? 10.0 : 100.0 / unit_.scale;
}

std::vector<TimeTick> TimeScale::ticks(double min, double max, int maxTicks, double minGap) const {
    if (!(max > min)) return {};
    if (steps_) {
        std::vector<TimeTick> spaced;
        for (TimeTick& tick : orderTicks(min, max, maxTicks))
            if (spaced.empty() || tick.x - spaced.back().x >= minGap)
                spaced.push_back(std::move(tick));
        return spaced;
    }
    std::vector<TimeTick> ticks;
    const double step = data::tick_step(max - min, maxTicks);
    const int decimals = data::step_decimals(step);
    for (double k = std::ceil(std::max(0.0, min) / step - 1e-9); k * step <= max + 1e-9 * step; ++k)
        ticks.push_back({k * step, QString::number(k * step, 'f', decimals)});
    return ticks;
}

std::vector<TimeTick> TimeScale::orderTicks(double min, double max, int maxTicks) const {
    const StepIndex& steps = *steps_;
    const std::uint64_t r = steps.resolution();
    const auto stepText = [&](std::size_t i) {
        return QString::fromStdString(data::format_step(steps.step(i) * r, origin_, r));
    };
    std::vector<TimeTick> ticks;
    const std::size_t first = steps.stepAtOrAfter(min), last = steps.stepAtOrAfter(max + 1e-9);
    if (last > first + 1) {
        // Several seconds in view: label the seconds, every m-th.
        const std::uint64_t origin = origin_ / r;
        const double span = double(steps.step(last - 1) - steps.step(first));
        const auto every = static_cast<std::uint64_t>(data::tick_step(span, maxTicks, true));
        for (std::size_t i = first; i < last; ++i)
            if ((steps.step(i) - std::min(origin, steps.step(i))) % every == 0)
                ticks.push_back({steps.start(i), stepText(i)});
        if (ticks.size() < 2) { // seconds with gaps between them: every n-th present one
            ticks.clear();
            const std::size_t n =
                (last - first + std::size_t(maxTicks) - 1) / std::size_t(maxTicks);
            for (std::size_t i = first; i < last; i += std::max<std::size_t>(1, n))
                ticks.push_back({steps.start(i), stepText(i)});
        }
        return ticks;
    }
    // Within one second or across one boundary: the order within the seconds in view.
    const double orderStep = data::tick_step(max - min, maxTicks, true);
    const std::size_t from = first > 0 ? first - 1 : 0;
    for (std::size_t i = from; i < steps.size() && steps.start(i) <= max; ++i) {
        const double start = steps.start(i), width = steps.width(i);
        if (start >= min) ticks.push_back({start, stepText(i)});
        // Stamp n (1-based) of the second sits at start + n - 1.
        const double firstN = std::max(1.0, std::ceil((min - start + 1) / orderStep));
        for (double n = firstN * orderStep; n <= width; n += orderStep) {
            const double x = start + n - 1;
            if (x == start) continue;
            if (x > max) break;
            ticks.push_back({x, QStringLiteral("%1 #%2").arg(stepText(i)).arg(qint64(n))});
        }
    }
    return ticks;
}

} // namespace memlife::ui
