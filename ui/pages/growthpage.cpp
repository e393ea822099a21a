#include "pages/growthpage.hpp"

#include <QLabel>
#include <QVBoxLayout>

#include "charts/growthchart.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

GrowthPage::GrowthPage(TraceDocument* document, QWidget* parent) : ViewPage(document, parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* hint = new QLabel(
        tr("Live bytes of a connection at the end of each of its requests. Memory from "
           "AllocMem lives until END_OF_NET_SESSION, so on a keep-alive connection it "
           "accumulates: the slope of the dashed fit is what each request leaves behind. "
           "Shows the selected sessions, or those growing fastest."),
        this);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    chart_ = new GrowthChart(this);
    chart_->setObjectName(QStringLiteral("growthChart"));
    layout->addWidget(chart_, 1);
    connect(chart_, &GrowthChart::updated, this, &ViewPage::busyChanged);
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

void GrowthPage::refresh() {
    chart_->setSessions(document()->selection());
    Q_EMIT busyChanged();
}

} // namespace memlife::ui
