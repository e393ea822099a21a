#include "pages/eventspage.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

#include "models/eventlogmodel.hpp"
#include "pages/pagelayout.hpp"
#include "style/format.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

EventsPage::EventsPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new EventLogModel(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = toolbarRow(layout);
    top->addWidget(new QLabel(tr("Kind:"), this));
    kind_ = new QComboBox(this);
    kind_->setObjectName(QStringLiteral("eventKindFilter"));
    kind_->addItem(tr("all kinds"), 0);
    for (int k = 1; k <= kEventKindMax; ++k)
        kind_->addItem(eventKindName(static_cast<EventKind>(k)), k);
    top->addWidget(kind_);
    top->addWidget(new QLabel(tr("Sessions:"), this));
    scope_ = new QComboBox(this);
    scope_->addItem(tr("all sessions"), false);
    scope_->addItem(tr("the selected session"), true);
    top->addWidget(scope_);
    count_ = new QLabel(this);
    count_->setObjectName(QStringLiteral("eventCount"));
    top->addWidget(count_, 1);

    table_ = makeTable(this, false);
    table_->setObjectName(QStringLiteral("eventsTable"));
    table_->setModel(model_);
    table_->verticalHeader()->hide();
    layout->addWidget(table_, 1);
    // Column widths from the header and a sample text: resizeColumnsToContents would visit
    // rows that are not loaded yet.
    const QFontMetrics metrics = table_->fontMetrics();
    const int widths[] = {90, 110, 70, 70, 120, 140, 70, 90, 70, 130};
    for (int c = 0; c < EventLogModel::ColumnCount; ++c)
        table_->setColumnWidth(
            c, std::max(widths[c], metrics.horizontalAdvance(
                                       model_->headerData(c, Qt::Horizontal).toString()) +
                                       24));

    connect(kind_, &QComboBox::currentIndexChanged, this, &EventsPage::refresh);
    connect(scope_, &QComboBox::currentIndexChanged, this, &EventsPage::refresh);
    connect(model_, &QAbstractItemModel::rowsInserted, this, &EventsPage::updateCount);
    connect(model_, &EventLogModel::countingFinished, this, [this] {
        updateCount();
        Q_EMIT busyChanged();
    });
    connect(model_, &EventLogModel::windowLoaded, this, &ViewPage::busyChanged);
    connect(model_, &EventLogModel::exported, this,
            [this](const QString& file, const QString& error) {
                Q_EMIT tableExported(file, error);
                Q_EMIT busyChanged();
            });
    connect(model_, &EventLogModel::failed, this, [this](const QString& message) {
        readError_ = readErrorText(message);
        updateCount();
        Q_EMIT busyChanged();
    });
}

QAbstractItemModel* EventsPage::tableModel() {
    return model_;
}

void EventsPage::exportCsv(const QString& file) {
    model_->exportCsv(file);
    Q_EMIT busyChanged();
}

bool EventsPage::isBusy() const {
    return model_->isBusy();
}

void EventsPage::traceChanged() {
    readError_.clear();
    model_->setSource(nullptr, std::nullopt, std::nullopt);
}

void EventsPage::refresh() {
    if (!isVisible()) {
        markStale();
        return;
    }
    const TracePtr& trace = document()->trace();
    const int kind = kind_->currentData().toInt();
    std::optional<std::uint64_t> session;
    if (scope_->currentData().toBool() && document()->focusSession())
        session = document()->focusSession();
    std::optional<EventKind> kindFilter;
    if (kind) kindFilter = static_cast<EventKind>(kind);
    if (model_->trace() != trace || model_->session() != session || model_->kind() != kindFilter) {
        readError_.clear();
        model_->setSource(trace, session, kindFilter);
    }
    updateCount();
    Q_EMIT busyChanged();
}

void EventsPage::updateCount() {
    if (!readError_.isEmpty()) {
        count_->setText(readError_);
        return;
    }
    const auto rows = std::uint64_t(model_->rowCount());
    count_->setText(model_->isCounting() ? tr("counting… %1 events so far").arg(formatCount(rows))
                                         : tr("%1 events").arg(formatCount(rows)));
}

} // namespace memlife::ui
