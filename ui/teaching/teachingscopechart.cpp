#include "teaching/teachingscopechart.hpp"

#include <QBarSet>
#include <QCategoryAxis>
#include <QStackedBarSeries>
#include <QValueAxis>

#include <algorithm>

#include "style/format.hpp"
#include "style/style.hpp"
#include "teaching/teachingstyle.hpp"
#include "teaching/teachingtexts.hpp"

namespace memlife::ui {

TeachingScopeChart::TeachingScopeChart(QWidget* parent) : QChartView(parent) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(6, 6, 6, 6));
    // The page's line above the chart names the scopes with their colours and values: a
    // legend here would say it again, cut short on a narrow window.
    chart->legend()->hide();
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setTitle(tr("Live bytes by scope after each step"));
    setChart(chart);
    setRenderHint(QPainter::Antialiasing, true);
    auto* series = new QStackedBarSeries(chart);
    series->setBarWidth(0.8);
    session_ = new QBarSet(scopeNames(LessonServer::Isapi).session);
    request_ = new QBarSet(scopeNames(LessonServer::Isapi).request);
    series->append(session_);
    series->append(request_);
    chart->addSeries(series);
    xAxis_ = new QCategoryAxis(chart);
    xAxis_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    xAxis_->setTitleText(tr("steps, request by request"));
    yAxis_ = new QValueAxis(chart);
    chart->addAxis(xAxis_, Qt::AlignBottom);
    chart->addAxis(yAxis_, Qt::AlignLeft);
    series->attachAxis(xAxis_);
    series->attachAxis(yAxis_);
    applyPalette();
}

void TeachingScopeChart::setScript(const TeachingScript& script) {
    const int n = int(script.steps.size());
    const ScopeNames names = scopeNames(script.server);
    session_->setLabel(names.session);
    request_->setLabel(names.request);
    // The scale of the steps shown one by one, up to the folded requests: the folded step
    // of hundreds of requests, and the close after it that still holds their memory, would
    // squash them (their bars are cut at the top, and their labels say how high they go).
    const auto folded =
        std::find_if(script.steps.begin(), script.steps.end(),
                     [](const TeachingStep& s) { return s.kind == StepKind::Skipped; });
    double highest = 0;
    for (auto step = script.steps.begin(); step != folded; ++step)
        highest = std::max(highest, double(step->liveBytes()));
    for (const TeachingStep& step : script.steps)
        if (highest == 0) highest = std::max(highest, double(step.liveBytes()));
    const data::ByteAxis bytes = data::byte_axis(std::max(1.0, highest * 1.05));
    unit_ = bytes.unit.scale;
    setByteAxis(yAxis_, bytes);
    top_ = bytes.top;
    // Bars sit at x = 0 .. n-1; the axis names where each request starts rather than
    // numbering tens of steps.
    for (const QString& label : xAxis_->categoriesLabels())
        xAxis_->remove(label);
    std::uint32_t lastRequest = 0;
    int lastLabel = -2;
    bool closing = false;
    for (int i = 0; i < n; ++i) {
        const TeachingStep& s = script.steps[std::size_t(i)];
        QString label;
        if (s.kind == StepKind::Skipped) {
            label = s.skippedLast > s.skippedFirst
                        ? tr("req %1–%2").arg(s.skippedFirst).arg(s.skippedLast)
                        : tr("req %1").arg(s.skippedFirst);
        } else if (s.request != 0 && s.request != lastRequest) {
            label = tr("req %1").arg(s.request);
        } else if (!closing && (s.kind == StepKind::SessionClose ||
                                s.notification == Notification::EndOfNetSession)) {
            closing = true;
            // Right after the folded requests there is no room for a second label.
            if (i - lastLabel >= 2) label = tr("close");
        }
        if (s.request != 0) lastRequest = s.request;
        if (!label.isEmpty() && double(s.liveBytes()) / unit_ > top_) // a bar cut at the top
            label += tr(" (%1 ↑)").arg(formatBytes(double(s.liveBytes())));
        if (label.isEmpty() || xAxis_->categoriesLabels().contains(label)) continue;
        xAxis_->append(label, i - 0.5);
        lastLabel = i;
    }
    xAxis_->setRange(-0.5, std::max(0.5, n - 0.5));
    session_->remove(0, session_->count());
    request_->remove(0, request_->count());
    const QList<qreal> zeros(n, 0.0);
    session_->append(zeros);
    request_->append(zeros);
    yAxis_->setTitleText(
        tr("live bytes (%1)")
            .arg(QString::fromUtf8(bytes.unit.symbol.data(), qsizetype(bytes.unit.symbol.size()))));
    shown_ = -1;
}

void TeachingScopeChart::setStep(const TeachingScript& script, int step) {
    const int n = std::min<int>(int(script.steps.size()), session_->count());
    step = std::min(step, n - 1);
    // Bars up to the current step; later ones stay empty until the lesson gets there.
    const int from = std::min(shown_, step) + 1, to = std::max(shown_, step);
    for (int i = std::max(0, from); i <= to && i < n; ++i) {
        const TeachingStep& s = script.steps[std::size_t(i)];
        // A bar above the axis (a folded step) is cut at its top, the session part first.
        const double sessionPart = std::min(double(s.sessionBytes) / unit_, top_);
        const double requestPart = std::min(double(s.requestBytes) / unit_, top_ - sessionPart);
        session_->replace(i, i <= step ? sessionPart : 0.0);
        request_->replace(i, i <= step ? requestPart : 0.0);
    }
    shown_ = step;
    session_->deselectAllBars();
    request_->deselectAllBars();
    if (step >= 0) {
        session_->selectBar(step);
        request_->selectBar(step);
    }
}

QString TeachingScopeChart::categoryLabels() const {
    return xAxis_->categoriesLabels().join(QStringLiteral(" | "));
}

void TeachingScopeChart::applyPalette() {
    styleChart(chart(), palette(), font(), {xAxis_, yAxis_});
    session_->setColor(sessionScopeColor());
    session_->setBorderColor(sessionScopeColor().darker(120));
    session_->setSelectedColor(sessionScopeColor().lighter(135));
    request_->setColor(requestScopeColor());
    request_->setBorderColor(requestScopeColor().darker(120));
    request_->setSelectedColor(requestScopeColor().lighter(135));
}

void TeachingScopeChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

} // namespace memlife::ui
