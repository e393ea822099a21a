#include "pages/overviewpage.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <utility>

#include "charts/livebyteschart.hpp"
#include "compare/comparepanel.hpp"
#include "models/itemroles.hpp"
#include "models/sessionsmodel.hpp"
#include "models/sessionsproxy.hpp"
#include "pages/chartchoice.hpp"
#include "pages/pagelayout.hpp"
#include "style/format.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

OverviewPage::OverviewPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new SessionsModel(this)), proxy_(new SessionsProxy(this)) {
    proxy_->setSourceModel(model_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* top = toolbarRow(layout);
    filter_ = new QLineEdit(this);
    filter_->setObjectName(QStringLiteral("sessionFilter"));
    filter_->setPlaceholderText(tr("Filter sessions by id or peer"));
    filter_->setClearButtonEnabled(true);
    problemsOnly_ = new QCheckBox(tr("Only sessions with findings"), this);
    problemsOnly_->setToolTip(tr("Corruptions, leaks, and growth per request above the limit"));
    maxGrowth_ = new QSpinBox(this);
    maxGrowth_->setObjectName(QStringLiteral("maxGrowth"));
    maxGrowth_->setRange(0, 1 << 30);
    maxGrowth_->setSuffix(tr(" B/req"));
    maxGrowth_->setValue(int(document->maxGrowth()));
    const QString growthHelp =
        tr("A session whose live bytes grow by more than this per request keeps memory from "
           "one keep-alive request to the next: a finding (the rule of memlife check "
           "--max-growth)");
    maxGrowth_->setToolTip(growthHelp);
    auto* growthLabel = new QLabel(tr("Growth above"), this);
    growthLabel->setToolTip(growthHelp);
    count_ = new QLabel(this);
    top->addWidget(filter_, 1);
    top->addWidget(problemsOnly_);
    top->addSpacing(8);
    top->addWidget(growthLabel);
    top->addWidget(maxGrowth_);
    top->addSpacing(8);
    top->addWidget(count_);

    splitter_ = new QSplitter(Qt::Vertical, this);
    compare_ = new ComparePanel(splitter_);
    compare_->setObjectName(QStringLiteral("comparePanel"));
    compare_->setVisible(false);
    table_ = makeTable(splitter_, true);
    table_->setObjectName(QStringLiteral("sessionsTable"));
    table_->setModel(proxy_);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->sortByColumn(SessionsModel::Id, Qt::AscendingOrder);
    table_->horizontalHeader()->setStretchLastSection(false);
    table_->horizontalHeader()->setSectionResizeMode(SessionsModel::Peer, QHeaderView::Stretch);
    auto* chartArea = new QWidget(splitter_);
    auto* chartLayout = new QVBoxLayout(chartArea);
    chartLayout->setContentsMargins(0, 4, 0, 0);
    auto* chartRow = toolbarRow(chartLayout);
    chartRow->addWidget(new QLabel(tr("With no session selected, draw"), chartArea));
    chartRow->addWidget(chartChoiceBox(document, chartArea));
    chartRow->addStretch(1);
    chart_ = new LiveBytesChart(chartArea);
    chart_->setObjectName(QStringLiteral("liveBytesChart"));
    chartLayout->addWidget(chart_, 1);
    splitter_->addWidget(compare_);
    splitter_->addWidget(table_);
    splitter_->addWidget(chartArea);
    splitter_->setStretchFactor(0, 3);
    splitter_->setStretchFactor(1, 2);
    splitter_->setStretchFactor(2, 3);
    // The chart gets the larger share; proportions scale. The compare panel, hidden until
    // compare mode, takes its share from both.
    splitter_->setSizes({330, 320, 480});
    layout->addWidget(splitter_, 1);

    connect(filter_, &QLineEdit::textChanged, this, [this](const QString& text) {
        proxy_->setText(text);
        updateCount();
    });
    connect(problemsOnly_, &QCheckBox::toggled, this, [this](bool on) {
        proxy_->setProblemsOnly(on);
        updateCount();
    });
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &OverviewPage::selectionFromTable);
    connect(document, &TraceDocument::selectionChanged, this, &OverviewPage::selectionToTable);
    connect(document, &TraceDocument::chartChoiceChanged, this, &OverviewPage::markStale);
    connect(maxGrowth_, &QSpinBox::valueChanged, document,
            [document](int bytes) { document->setMaxGrowth(bytes); });
    connect(document, &TraceDocument::maxGrowthChanged, this, [this] {
        const QSignalBlocker blocker(maxGrowth_);
        maxGrowth_->setValue(int(this->document()->maxGrowth()));
        model_->setMaxGrowth(this->document()->maxGrowth());
        updateCount();
    });
    connect(chart_, &LiveBytesChart::requeried, this, [this] {
        // Other views (the allocation sites) follow the range shown here.
        this->document()->setTimeWindow(chart_->isZoomed() ? std::optional(chart_->visibleWindow())
                                                           : std::nullopt);
        Q_EMIT busyChanged();
    });
    connect(chart_, &LiveBytesChart::marksLoaded, this, &ViewPage::busyChanged);
    connect(compare_, &ComparePanel::updated, this, [this] {
        if (isVisible()) updateComparison(); // what a followed trace recorded meanwhile
        Q_EMIT busyChanged();
    });
}

QChartView* OverviewPage::chartView() {
    return chart_;
}

QAbstractItemModel* OverviewPage::tableModel() {
    return proxy_;
}

bool OverviewPage::isBusy() const {
    return chart_->isPending() || compare_->isPending();
}

QByteArray OverviewPage::saveLayout() const {
    return splitter_->saveState();
}

void OverviewPage::restoreLayout(const QByteArray& state) {
    splitter_->restoreState(state);
}

void OverviewPage::traceChanged() {
    model_->setMaxGrowth(document()->maxGrowth());
    followed_ = false;
    model_->setTrace(document()->trace());
    chart_->setTrace(document()->trace());
    const auto& trace = document()->trace();
    table_->setColumnHidden(SessionsModel::Outlived, !trace || !trace->tracksOutlived());
    table_->resizeColumnsToContents();
    updateCount();
    baseChanged();
}

void OverviewPage::baseChanged() {
    const bool comparing = document()->baseTrace() && document()->trace();
    const bool appearing = comparing && compare_->isHidden();
    compare_->setVisible(comparing);
    if (appearing) {
        // Room for the box plots and the table; the sessions table gives the most.
        const int height = std::max(splitter_->height(), 600);
        splitter_->setSizes({height * 42 / 100, height * 22 / 100, height * 36 / 100});
    }
    if (comparing) {
        compareStale_ = true; // computed when the page is shown (an event pass of each)
    } else {
        compare_->setTraces(nullptr, nullptr);
        compareStale_ = compareBehind_ = false;
    }
}

void OverviewPage::traceUpdated(const TraceUpdate&) {
    model_->setTrace(document()->trace(), true);
    chart_->updateTrace(document()->trace());
    followed_ = true;
    if (document()->baseTrace()) compareBehind_ = true;
    updateCount();
}

void OverviewPage::updateComparison() {
    // A followed trace is compared again once the running comparison (an event pass of each
    // trace) is done, not on every update: restarting it each time would never finish.
    if (!compareStale_ && (!compareBehind_ || compare_->isPending())) return;
    compareStale_ = compareBehind_ = false;
    compare_->setTraces(document()->baseTrace(), document()->trace());
}

void OverviewPage::refresh() {
    updateComparison();
    LiveBytesChart::Choice choice;
    choice.sessions = document()->chartSessions();
    choice.detailed = !document()->selection().empty();
    choice.key =
        !choice.detailed && document()->chartChoice() == TraceDocument::ChartChoice::TopPeak
            ? LiveBytesChart::LegendKey::Peak
            : LiveBytesChart::LegendKey::Growth;
    const QString caption = chartSessionsCaption(*document());
    choice.title = tr("Live bytes of %1").arg(caption);
    choice.emptyText = chartSessionsEmptyText(*document());
    chart_->setSessions(std::move(choice), std::exchange(followed_, false));
}

void OverviewPage::updateCount() {
    count_->setText(tr("%1 of %2 sessions")
                        .arg(formatCount(std::uint64_t(proxy_->rowCount())))
                        .arg(formatCount(std::uint64_t(model_->rowCount()))));
}

void OverviewPage::selectionFromTable() {
    if (syncing_) return;
    std::vector<std::uint64_t> ids;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows())
        ids.push_back(index.data(SessionIdRole).toULongLong());
    std::sort(ids.begin(), ids.end());
    syncing_ = true;
    document()->setSelection(std::move(ids));
    syncing_ = false;
}

void OverviewPage::selectionToTable() {
    if (syncing_) return;
    syncing_ = true;
    QItemSelection selection;
    for (std::uint64_t id : document()->selection()) {
        const int row = model_->rowOf(id);
        if (row < 0) continue;
        const QModelIndex index = proxy_->mapFromSource(model_->index(row, 0));
        if (index.isValid()) selection.select(index, index);
    }
    table_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect |
                                                    QItemSelectionModel::Rows);
    syncing_ = false;
}

} // namespace memlife::ui
