#include "pages/growthpage.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "charts/growthchart.hpp"
#include "pages/chartchoice.hpp"
#include "pages/pagelayout.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

GrowthPage::GrowthPage(TraceDocument* document, QWidget* parent) : ViewPage(document, parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    hint_ = new QLabel(this);
    hint_->setWordWrap(true);
    layout->addWidget(hint_);
    auto* row = toolbarRow(layout);
    row->addWidget(new QLabel(tr("With no session selected, draw"), this));
    row->addWidget(chartChoiceBox(document, this));
    row->addStretch(1);
    chart_ = new GrowthChart(this);
    chart_->setObjectName(QStringLiteral("growthChart"));
    layout->addWidget(chart_, 1);
    connect(chart_, &GrowthChart::updated, this, &ViewPage::busyChanged);
    connect(document, &TraceDocument::chartChoiceChanged, this, &GrowthPage::markStale);
    baseChanged();
}

QChartView* GrowthPage::chartView() {
    return chart_;
}

bool GrowthPage::isBusy() const {
    return chart_->isPending();
}

void GrowthPage::traceChanged() {
    chart_->setTrace(document()->trace());
}

void GrowthPage::traceUpdated(const TraceUpdate&) {
    chart_->updateTrace(document()->trace());
}

void GrowthPage::baseChanged() {
    chart_->setBaseTrace(document()->baseTrace());
    const QString what =
        tr("Live bytes of a connection at the end of each of its requests. Memory from "
           "AllocMem lives until END_OF_NET_SESSION, so on a keep-alive connection it "
           "accumulates: the slope of the %1 fit is what each request leaves behind.");
    if (document()->baseTrace())
        hint_->setText(what.arg(tr("dotted")) + QLatin1Char(' ') +
                       tr("Dashed: the %1 steepest connections of the base trace, with their "
                          "slopes in the legend; a fix that worked leaves the solid lines flat.")
                           .arg(GrowthChart::kBaseSessions));
    else
        hint_->setText(what.arg(tr("dashed")));
}

void GrowthPage::refresh() {
    // The same sessions as the overview's chart.
    chart_->setSessions(document()->chartSessions(), chartSessionsEmptyText(*document()));
    Q_EMIT busyChanged();
}

} // namespace memlife::ui
