#include "pages/chartchoice.hpp"

#include <QComboBox>
#include <QCoreApplication>

#include "style/format.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

namespace {
QString tr(const char* text, int n = -1) {
    return QCoreApplication::translate("memlife::ui::ChartChoice", text, nullptr, n);
}
} // namespace

QComboBox* chartChoiceBox(TraceDocument* document, QWidget* parent) {
    using Choice = TraceDocument::ChartChoice;
    auto* box = new QComboBox(parent);
    box->setObjectName(QStringLiteral("chartChoice"));
    const auto top = int(TraceDocument::kTopSessions);
    box->addItem(tr("the %n growing fastest", top), int(Choice::TopGrowth));
    box->addItem(tr("the %n with the highest peak", top), int(Choice::TopPeak));
    box->addItem(tr("sessions with findings"), int(Choice::Findings));
    box->setToolTip(tr("The sessions the live-bytes and growth charts draw while none is "
                       "selected (select rows of the sessions table to draw those)"));
    const auto sync = [box, document] {
        const int index = box->findData(int(document->chartChoice()));
        if (box->currentIndex() != index) box->setCurrentIndex(index);
    };
    sync();
    QObject::connect(document, &TraceDocument::chartChoiceChanged, box, sync);
    QObject::connect(box, &QComboBox::currentIndexChanged, document, [box, document](int index) {
        document->setChartChoice(Choice(box->itemData(index).toInt()));
    });
    return box;
}

QString chartSessionsCaption(const TraceDocument& document) {
    using Choice = TraceDocument::ChartChoice;
    const std::size_t drawn = document.chartSessions().size();
    const QString sessions = drawn == 1 ? tr("the session") : tr("the %1 sessions").arg(drawn);
    if (!document.selection().empty())
        return drawn == 1 ? tr("the selected session") : tr("the %1 selected sessions").arg(drawn);
    const QString of = document.trace()
                           ? tr(" (of %1)").arg(formatCount(document.trace()->sessions.size()))
                           : QString();
    switch (document.chartChoice()) {
    case Choice::TopPeak:
        return tr("%1 with the highest peak").arg(sessions) + of;
    case Choice::Findings:
        return tr("%1 with findings, fastest growth first").arg(sessions) + of;
    case Choice::TopGrowth:
        break;
    }
    return tr("%1 growing fastest per request").arg(sessions) + of;
}

QString chartSessionsEmptyText(const TraceDocument& document) {
    if (document.chartChoice() == TraceDocument::ChartChoice::Findings &&
        document.selection().empty())
        return tr("No session has a finding: no corruption, no leak, and no growth above %1 "
                  "per request.")
            .arg(formatBytes(document.maxGrowth()));
    return tr("No session to draw.");
}

} // namespace memlife::ui
