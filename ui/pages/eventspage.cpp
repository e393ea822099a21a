#include "pages/eventspage.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

#include "models/eventfilter.hpp"
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
    search_ = new QLineEdit(this);
    search_->setObjectName(QStringLiteral("eventSearch"));
    search_->setPlaceholderText(tr("Search: peer, session, address, kind, notification, report"));
    search_->setClearButtonEnabled(true);
    search_->setToolTip(tr("Shows the events whose session's peer or id, kind, notification, "
                           "block address (hex) or leak or corruption report contains the text. "
                           "The whole trace is searched in the background."));
    top->addWidget(search_, 1);
    // Typing restarts the search once the keys pause, not at every key.
    searchDelay_ = new QTimer(this);
    searchDelay_->setSingleShot(true);
    searchDelay_->setInterval(kSearchDelayMs);
    connect(search_, &QLineEdit::textChanged, searchDelay_, qOverload<>(&QTimer::start));
    connect(searchDelay_, &QTimer::timeout, this, &EventsPage::refresh);
    connect(search_, &QLineEdit::returnPressed, this, [this] {
        searchDelay_->stop();
        refresh();
    });
    top->addWidget(new QLabel(tr("Kind:"), this));
    kind_ = new QComboBox(this);
    kind_->setObjectName(QStringLiteral("eventKindFilter"));
    kind_->addItem(tr("all kinds"), 0);
    for (int k = 1; k <= kEventKindMax; ++k)
        kind_->addItem(eventKindLabel(static_cast<EventKind>(k)), k);
    top->addWidget(kind_);
    top->addWidget(new QLabel(tr("Sessions:"), this));
    scope_ = new QComboBox(this);
    scope_->addItem(tr("all sessions"), false);
    scope_->addItem(tr("the selected session"), true);
    top->addWidget(scope_);
    count_ = new QLabel(this);
    count_->setObjectName(QStringLiteral("eventCount"));
    count_->setMinimumWidth(
        count_->fontMetrics().horizontalAdvance(tr("counting… 10,000,000 events so far")));
    top->addWidget(count_);

    table_ = makeTable(this, false);
    table_->setObjectName(QStringLiteral("eventsTable"));
    table_->setModel(model_);
    table_->verticalHeader()->hide();
    layout->addWidget(table_, 1);
    // Column widths from the header and a sample text: resizeColumnsToContents would visit
    // rows that are not loaded yet.
    const QFontMetrics metrics = table_->fontMetrics();
    const int widths[] = {90, 110, 70, 70, 120, 140, 70, 130, 70, 130};
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

void EventsPage::setSearch(const QString& text) {
    search_->setText(text);
    searchDelay_->stop();
    refresh();
}

void EventsPage::traceUpdated(const TraceUpdate&) {
    if (model_->trace()) model_->grow(document()->trace());
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
    const QString search = search_->text().trimmed();
    if (model_->trace() != trace || model_->session() != session || model_->kind() != kindFilter ||
        model_->search() != search) {
        readError_.clear();
        model_->setSource(trace, session, kindFilter, search);
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
    if (model_->isFiltered())
        count_->setText(model_->isCounting()
                            ? tr("searching… %1 found so far").arg(formatCount(rows))
                            : tr("%1 events found").arg(formatCount(rows)));
    else
        count_->setText(model_->isCounting()
                            ? tr("counting… %1 events so far").arg(formatCount(rows))
                            : tr("%1 events").arg(formatCount(rows)));
}

} // namespace memlife::ui
