#include "memlife/ui/pages.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "memlife/ui/blocksmodel.hpp"
#include "memlife/ui/eventlogmodel.hpp"
#include "memlife/ui/format.hpp"
#include "memlife/ui/growthchart.hpp"
#include "memlife/ui/leaksuspectsmodel.hpp"
#include "memlife/ui/livebyteschart.hpp"
#include "memlife/ui/sessionsmodel.hpp"
#include "memlife/ui/tailinspector.hpp"
#include "memlife/ui/teachingpage.hpp"
#include "memlife/ui/tracedocument.hpp"

namespace memlife::ui {

namespace {

QTableView* makeTable(QWidget* parent, bool sortable) {
    auto* table = new QTableView(parent);
    table->setSortingEnabled(sortable);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    table->horizontalHeader()->setHighlightSections(false);
    table->horizontalHeader()->setStretchLastSection(true);
    table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    return table;
}

QHBoxLayout* toolbarRow(QVBoxLayout* layout) {
    auto* row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(row);
    return row;
}

// Blocks filtered by tail / leak / liveness.
class BlocksProxy : public QSortFilterProxyModel {
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setMode(BlocksPage::Filter mode) {
        mode_ = mode;
        invalidateFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex&) const override {
        const auto* model = static_cast<const BlocksModel*>(sourceModel());
        const data::BlockRow* block = model->row(row);
        if (!block) return false;
        switch (mode_) {
        case BlocksPage::AllBlocks:
            return true;
        case BlocksPage::CorruptedBlocks:
            return block->tail == data::TailStatus::Corrupted;
        case BlocksPage::LeakedBlocks:
            return block->leaked;
        case BlocksPage::LiveBlocks:
            return block->release_ns == 0;
        }
        return true;
    }

private:
    BlocksPage::Filter mode_ = BlocksPage::AllBlocks;
};

} // namespace

// ---------------------------------------------------------------- overview

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
    problemsOnly_ = new QCheckBox(tr("Only sessions with corruptions or leaks"), this);
    count_ = new QLabel(this);
    top->addWidget(filter_, 1);
    top->addWidget(problemsOnly_);
    top->addWidget(count_);

    splitter_ = new QSplitter(Qt::Vertical, this);
    table_ = makeTable(splitter_, true);
    table_->setObjectName(QStringLiteral("sessionsTable"));
    table_->setModel(proxy_);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->sortByColumn(SessionsModel::Id, Qt::AscendingOrder);
    table_->horizontalHeader()->setStretchLastSection(false);
    table_->horizontalHeader()->setSectionResizeMode(SessionsModel::Peer, QHeaderView::Stretch);
    chart_ = new LiveBytesChart(splitter_);
    chart_->setObjectName(QStringLiteral("liveBytesChart"));
    splitter_->addWidget(table_);
    splitter_->addWidget(chart_);
    splitter_->setStretchFactor(0, 2);
    splitter_->setStretchFactor(1, 3);
    splitter_->setSizes({320, 480}); // the chart gets the larger share; proportions scale
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
    connect(chart_, &LiveBytesChart::requeried, this, &ViewPage::busyChanged);
}

QChartView* OverviewPage::chartView() {
    return chart_;
}

QAbstractItemModel* OverviewPage::tableModel() {
    return proxy_;
}

bool OverviewPage::isBusy() const {
    return chart_->isPending();
}

QByteArray OverviewPage::saveLayout() const {
    return splitter_->saveState();
}

void OverviewPage::restoreLayout(const QByteArray& state) {
    splitter_->restoreState(state);
}

void OverviewPage::traceChanged() {
    model_->setTrace(document()->trace());
    chart_->setTrace(document()->trace());
    table_->resizeColumnsToContents();
    updateCount();
}

void OverviewPage::refresh() {
    chart_->setSessions(document()->chartSessions(), !document()->selection().empty());
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

// ---------------------------------------------------------------- growth

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
}

QChartView* GrowthPage::chartView() {
    return chart_;
}

void GrowthPage::traceChanged() {
    chart_->setTrace(document()->trace());
}

void GrowthPage::refresh() {
    chart_->setSessions(document()->selection());
}

// ---------------------------------------------------------------- leaks

LeaksPage::LeaksPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new LeakSuspectsModel(this)),
      proxy_(new RankedProxy(this)) {
    proxy_->setSourceModel(model_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = toolbarRow(layout);
    top->addWidget(new QLabel(tr("Rank by:"), this));
    ranking_ = new QComboBox(this);
    ranking_->addItem(tr("growth per request"), ByGrowth);
    ranking_->addItem(tr("leaked bytes"), ByLeakedBytes);
    top->addWidget(ranking_);
    summary_ = new QLabel(this);
    top->addWidget(summary_, 1);
    table_ = makeTable(this, true);
    table_->setObjectName(QStringLiteral("leakSuspectsTable"));
    table_->setModel(proxy_);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->horizontalHeader()->setStretchLastSection(false);
    table_->horizontalHeader()->setSectionResizeMode(LeakSuspectsModel::Peer, QHeaderView::Stretch);
    layout->addWidget(table_, 1);
    auto* hint = new QLabel(tr("Double-click a session to see its blocks."), this);
    layout->addWidget(hint);

    connect(ranking_, &QComboBox::currentIndexChanged, this, [this](int index) {
        setRanking(static_cast<Ranking>(ranking_->itemData(index).toInt()));
    });
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        this->document()->setSelection({index.data(SessionIdRole).toULongLong()});
        Q_EMIT viewRequested(QStringLiteral("blocks"));
    });
    setRanking(ByGrowth);
}

QAbstractItemModel* LeaksPage::tableModel() {
    return proxy_;
}

void LeaksPage::setRanking(Ranking ranking) {
    const int column =
        ranking == ByGrowth ? LeakSuspectsModel::GrowthPerRequest : LeakSuspectsModel::LeakedBytes;
    table_->sortByColumn(column, Qt::DescendingOrder);
    const int comboIndex = ranking_->findData(ranking);
    if (ranking_->currentIndex() != comboIndex) ranking_->setCurrentIndex(comboIndex);
}

void LeaksPage::traceChanged() {
    model_->setTrace(document()->trace());
    table_->resizeColumnsToContents();
    summary_->setText(tr("%1 suspect session(s): growing by ≥ 1 B per request, or leaking blocks")
                          .arg(model_->rowCount()));
}

// ---------------------------------------------------------------- blocks

BlocksPage::BlocksPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new BlocksModel(this)), proxy_(new BlocksProxy(this)) {
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(SortRole);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = toolbarRow(layout);
    header_ = new QLabel(this);
    header_->setObjectName(QStringLiteral("blocksHeader"));
    top->addWidget(header_, 1);
    top->addWidget(new QLabel(tr("Show:"), this));
    filter_ = new QComboBox(this);
    filter_->addItem(tr("all blocks"), AllBlocks);
    filter_->addItem(tr("corrupted tails"), CorruptedBlocks);
    filter_->addItem(tr("leaked"), LeakedBlocks);
    filter_->addItem(tr("live at the end"), LiveBlocks);
    top->addWidget(filter_);
    inspectButton_ = new QPushButton(tr("Inspect tail…"), this);
    inspectButton_->setEnabled(false);
    top->addWidget(inspectButton_);

    table_ = makeTable(this, true);
    table_->setObjectName(QStringLiteral("blocksTable"));
    table_->setModel(proxy_);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->sortByColumn(BlocksModel::Id, Qt::AscendingOrder);
    layout->addWidget(table_, 1);

    connect(filter_, &QComboBox::currentIndexChanged, this, [this](int index) {
        static_cast<BlocksProxy*>(proxy_)->setMode(
            static_cast<Filter>(filter_->itemData(index).toInt()));
    });
    connect(model_, &BlocksModel::loaded, this, &BlocksPage::onLoaded);
    connect(model_, &BlocksModel::failed, this, [this](const QString& message) {
        header_->setText(tr("Cannot read blocks: %1").arg(message));
        Q_EMIT busyChanged();
    });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &BlocksPage::updateButtons);
    connect(table_, &QTableView::doubleClicked, this,
            [this](const QModelIndex& index) { inspect(index.row()); });
    connect(table_, &QTableView::activated, this,
            [this](const QModelIndex& index) { inspect(index.row()); });
    connect(inspectButton_, &QPushButton::clicked, this,
            [this] { inspect(table_->currentIndex().row()); });
}

QAbstractItemModel* BlocksPage::tableModel() {
    return proxy_;
}

bool BlocksPage::isBusy() const {
    return model_->isLoading();
}

void BlocksPage::traceChanged() {
    model_->setSession(nullptr, 0);
    if (inspector_) inspector_->close();
}

void BlocksPage::refresh() {
    const std::uint64_t session = document()->focusSession();
    if (session == model_->session() && document()->trace()) return;
    header_->setText(session ? tr("Reading the blocks of session %1…").arg(session)
                             : tr("No trace loaded"));
    model_->setSession(document()->trace(), session);
    Q_EMIT busyChanged();
}

void BlocksPage::onLoaded() {
    const TracePtr& trace = document()->trace();
    const data::SessionRow* s = trace ? trace->session(model_->session()) : nullptr;
    if (s) {
        QString text =
            tr("Blocks of session %1 (%2): %3 block(s), %4 corrupted tail(s), %5 leak(s)")
                .arg(s->id)
                .arg(QString::fromStdString(s->peer))
                .arg(formatCount(model_->totalBlocks()))
                .arg(s->corruptions)
                .arg(s->leaks);
        if (model_->totalBlocks() > std::uint64_t(model_->rowCount()))
            text +=
                tr(" (showing the first %1)").arg(formatCount(std::uint64_t(model_->rowCount())));
        header_->setText(text);
    }
    table_->resizeColumnsToContents();
    // Bring the first corrupted block (else the first leaked one) into view: it is why one
    // opens this page.
    int problem = -1;
    for (int row = 0; row < proxy_->rowCount(); ++row) {
        const data::BlockRow* block = model_->row(proxy_->mapToSource(proxy_->index(row, 0)).row());
        if (block->tail == data::TailStatus::Corrupted) {
            problem = row;
            break;
        }
        if (block->leaked && problem < 0) problem = row;
    }
    if (problem >= 0) {
        table_->setCurrentIndex(proxy_->index(problem, 0));
        table_->scrollTo(proxy_->index(problem, 0), QAbstractItemView::PositionAtCenter);
    }
    updateButtons();
    Q_EMIT busyChanged();
}

void BlocksPage::updateButtons() {
    const QModelIndex current = table_->currentIndex();
    const data::BlockRow* block =
        current.isValid() ? model_->row(proxy_->mapToSource(current).row()) : nullptr;
    inspectButton_->setEnabled(block && block->tail == data::TailStatus::Corrupted);
}

TailInspector* BlocksPage::inspect(int row) {
    const QModelIndex index = proxy_->index(row, 0);
    if (!index.isValid()) return nullptr;
    const data::BlockRow* block = model_->row(proxy_->mapToSource(index).row());
    const TracePtr& trace = document()->trace();
    if (!block || !trace || block->tail != data::TailStatus::Corrupted) return nullptr;
    for (const data::CorruptionRow& c : trace->corruptions) {
        if (c.session != block->session || c.block != block->id) continue;
        if (inspector_) inspector_->close();
        inspector_ = new TailInspector(c, this);
        inspector_->setAttribute(Qt::WA_DeleteOnClose);
        inspector_->show();
        return inspector_;
    }
    return nullptr;
}

// ---------------------------------------------------------------- events

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
    connect(model_, &EventLogModel::failed, this, [this](const QString& message) {
        readError_ = readErrorText(message);
        updateCount();
        Q_EMIT busyChanged();
    });
}

QAbstractItemModel* EventsPage::tableModel() {
    return model_;
}

bool EventsPage::exportCsv(const QString& file, QString* error) {
    return model_->exportCsv(file, error);
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

// ---------------------------------------------------------------- registry

std::vector<ViewInfo> builtinViews() {
    auto make = [](auto tag) {
        using Page = typename decltype(tag)::type;
        return [](TraceDocument* document, QWidget* parent) -> ViewPage* {
            return new Page(document, parent);
        };
    };
    return {
        {QStringLiteral("overview"), QObject::tr("Overview"),
         make(std::type_identity<OverviewPage>{})},
        {QStringLiteral("growth"), QObject::tr("Growth"), make(std::type_identity<GrowthPage>{})},
        {QStringLiteral("leaks"), QObject::tr("Leak suspects"),
         make(std::type_identity<LeaksPage>{})},
        {QStringLiteral("blocks"), QObject::tr("Blocks"), make(std::type_identity<BlocksPage>{})},
        {QStringLiteral("events"), QObject::tr("Event log"),
         make(std::type_identity<EventsPage>{})},
        {QStringLiteral("teaching"), QObject::tr("Teaching"),
         make(std::type_identity<TeachingPage>{})},
    };
}

} // namespace memlife::ui
