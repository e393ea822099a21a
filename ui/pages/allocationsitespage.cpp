#include "pages/allocationsitespage.hpp"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTreeView>
#include <QVBoxLayout>

#include <exception>

#include "charts/flamegraph.hpp"
#include "jobs/readerpool.hpp"
#include "models/itemroles.hpp"
#include "models/stacktreemodel.hpp"
#include "pages/pagelayout.hpp"
#include "style/format.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

AllocationSitesPage::AllocationSitesPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new StackTreeModel(this)),
      proxy_(new QSortFilterProxyModel(this)), job_(this) {
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(SortRole);
    auto* top = pageWithHeader(this, &header_, QStringLiteral("sitesHeader"));
    auto* layout = static_cast<QVBoxLayout*>(this->layout());
    directionBox_ = new QComboBox(this);
    directionBox_->setObjectName(QStringLiteral("sitesDirection"));
    directionBox_->addItem(tr("Bottom-up (allocating function first)"), BottomUp);
    directionBox_->addItem(tr("Top-down (from main)"), TopDown);
    top->addWidget(directionBox_);
    top->addWidget(new QLabel(tr("Width:"), this));
    measureBox_ = new QComboBox(this);
    measureBox_->addItem(tr("bytes allocated"), int(FlameGraph::Measure::Allocated));
    measureBox_->addItem(tr("bytes live at the end"), int(FlameGraph::Measure::LiveAtEnd));
    top->addWidget(measureBox_);
    search_ = new QLineEdit(this);
    search_->setObjectName(QStringLiteral("sitesSearch"));
    search_->setPlaceholderText(tr("Search functions"));
    search_->setClearButtonEnabled(true);
    search_->setMaximumWidth(260);
    top->addWidget(search_);
    searchResult_ = new QLabel(this);
    top->addWidget(searchResult_);

    empty_ = new QLabel(this);
    empty_->setObjectName(QStringLiteral("sitesEmpty"));
    empty_->setWordWrap(true);
    empty_->setAlignment(Qt::AlignCenter);
    empty_->hide();
    layout->addWidget(empty_, 1);

    splitter_ = new QSplitter(Qt::Vertical, this);
    tree_ = new QTreeView(splitter_);
    tree_->setObjectName(QStringLiteral("sitesTree"));
    tree_->setModel(proxy_);
    tree_->setSortingEnabled(true);
    tree_->sortByColumn(StackTreeModel::Allocated, Qt::DescendingOrder);
    tree_->setAlternatingRowColors(true);
    tree_->setUniformRowHeights(true);
    tree_->header()->setStretchLastSection(false);
    tree_->header()->setSectionResizeMode(StackTreeModel::Function, QHeaderView::Stretch);
    flameScroll_ = new QScrollArea(splitter_);
    flameScroll_->setWidgetResizable(true);
    flameScroll_->setFrameShape(QFrame::NoFrame);
    flame_ = new FlameGraph(flameScroll_);
    flame_->setObjectName(QStringLiteral("flameGraph"));
    flameScroll_->setWidget(flame_);
    splitter_->addWidget(tree_);
    splitter_->addWidget(flameScroll_);
    splitter_->setSizes({420, 380});
    layout->addWidget(splitter_, 1);

    connect(directionBox_, &QComboBox::currentIndexChanged, this, [this](int index) {
        setDirection(static_cast<Direction>(directionBox_->itemData(index).toInt()));
    });
    connect(measureBox_, &QComboBox::currentIndexChanged, this, [this](int index) {
        flame_->setMeasure(static_cast<FlameGraph::Measure>(measureBox_->itemData(index).toInt()));
    });
    connect(search_, &QLineEdit::textChanged, flame_, &FlameGraph::setSearch);
    connect(flame_, &FlameGraph::searched, this, [this](int matches, double fraction) {
        searchResult_->setText(
            search_->text().trimmed().isEmpty()
                ? QString()
                : tr("%n frame(s), %1 %", nullptr, matches).arg(100 * fraction, 0, 'f', 1));
    });
    // A bar clicked in the flame graph is found in the tree.
    connect(flame_, &FlameGraph::nodeClicked, this, [this](std::uint32_t node) {
        const QModelIndex index = proxy_->mapFromSource(model_->indexOf(node));
        if (!index.isValid()) return;
        tree_->setCurrentIndex(index);
        tree_->scrollTo(index);
    });
    connect(document, &TraceDocument::timeWindowChanged, this, &AllocationSitesPage::markStale);
}

QAbstractItemModel* AllocationSitesPage::tableModel() {
    return proxy_;
}

bool AllocationSitesPage::isBusy() const {
    return job_.isRunning();
}

QByteArray AllocationSitesPage::saveLayout() const {
    return splitter_->saveState();
}

void AllocationSitesPage::restoreLayout(const QByteArray& state) {
    splitter_->restoreState(state);
}

void AllocationSitesPage::setDirection(Direction direction) {
    const int comboIndex = directionBox_->findData(direction);
    if (directionBox_->currentIndex() != comboIndex) directionBox_->setCurrentIndex(comboIndex);
    if (direction == direction_) return;
    direction_ = direction;
    markStale();
}

QString AllocationSitesPage::emptyReason() const {
    return empty_->isHidden() ? QString() : empty_->text();
}

void AllocationSitesPage::setControlsEnabled(bool enabled) {
    for (QWidget* control : {static_cast<QWidget*>(directionBox_),
                             static_cast<QWidget*>(measureBox_), static_cast<QWidget*>(search_)})
        control->setEnabled(enabled);
}

void AllocationSitesPage::showEmpty(const QString& sentence) {
    job_.discard();
    model_->setTree(nullptr);
    flame_->setTree(nullptr);
    header_->clear();
    empty_->setText(sentence);
    empty_->show();
    splitter_->hide();
    setControlsEnabled(false);
    Q_EMIT busyChanged();
}

void AllocationSitesPage::traceChanged() {
    const TracePtr& trace = document()->trace();
    if (!trace) {
        showEmpty(tr("No trace loaded."));
        return;
    }
    if (!trace->stacks.recorded) {
        // One sentence: "No stacks recorded (why)."
        QString reason = QString::fromStdString(trace->stacks.reason);
        if (!reason.isEmpty()) reason[0] = reason[0].toUpper();
        showEmpty(reason + QLatin1Char('.'));
        return;
    }
    empty_->clear();
    empty_->hide();
    splitter_->show();
    setControlsEnabled(true);
    model_->setTree(nullptr);
    flame_->setTree(nullptr);
}

QString AllocationSitesPage::scopeText() const {
    const TracePtr& trace = document()->trace();
    const std::size_t selected = document()->selection().size();
    QString text = selected == 0   ? tr("all %1 sessions").arg(formatCount(trace->sessions.size()))
                   : selected == 1 ? tr("session %1").arg(document()->selection().front())
                                   : tr("%1 selected sessions").arg(formatCount(selected));
    if (const auto& window = document()->timeWindow()) {
        const double first = double(trace->firstNs());
        text += tr(", allocated from %1 to %2")
                    .arg(formatDuration(double(window->begin_ns) - first),
                         formatDuration(double(window->end_ns) - first));
    }
    return text;
}

namespace {
// What the job hands over: NEW's tree (for the flame graph) and, in compare mode, the tree
// merged with the base's.
struct SitesResult {
    StackTreePtr tree;
    MergedTree merged; // empty when not comparing
    QString baseError; // the base's tree could not be read: this trace alone
};
} // namespace

void AllocationSitesPage::refresh() {
    const TracePtr& trace = document()->trace();
    if (!trace || !trace->stacks.recorded) return;
    data::StackQuery query;
    query.sessions = document()->selection();
    query.window = document()->timeWindow();
    query.order = data::StackOrder::Allocated;
    const data::TreeDirection direction =
        direction_ == TopDown ? data::TreeDirection::TopDown : data::TreeDirection::BottomUp;
    // Compare mode: the base's sessions cannot be matched to these, so its tree is of all
    // of them over the whole trace.
    const TracePtr& base = document()->baseTrace();
    std::shared_ptr<ReaderPool> baseReaders =
        base && base->stacks.recorded ? base->readers : nullptr;
    const QString scope = scopeText();
    header_->setText(tr("Reading the allocation sites of %1…").arg(scope));
    job_.start<SitesResult>({
        .work =
            [readers = trace->readers, baseReaders, query, direction](const JobControl& control) {
                auto read = [direction](ReaderPool& pool, const data::StackQuery& q) {
                    return pool.useStacks(
                        [&](const data::StackReader& reader) { return reader.tree(q, direction); });
                };
                SitesResult result;
                result.tree = std::make_shared<const data::StackTree>(read(*readers, query));
                if (baseReaders && !control.canceled()) {
                    data::StackQuery whole;
                    whole.order = query.order;
                    try {
                        result.merged = mergeBaseTree(*result.tree, read(*baseReaders, whole));
                    } catch (const std::exception& error) {
                        result.baseError = QString::fromUtf8(error.what());
                    }
                }
                return result;
            },
        .done =
            [this, scope](SitesResult result) {
                baseError_ = result.baseError;
                if (result.merged.tree)
                    model_->setTree(result.merged.tree, result.merged.base);
                else
                    model_->setTree(result.tree);
                flame_->setTree(result.tree);
                showTree(scope);
            },
        .failed =
            [this](const QString& message) {
                header_->setText(readErrorText(message));
                model_->setTree(nullptr);
                flame_->setTree(nullptr);
                Q_EMIT busyChanged();
            },
    });
    Q_EMIT busyChanged();
}

QString AllocationSitesPage::compareText() const {
    const TracePtr& base = document()->baseTrace();
    if (!base) return {};
    const QString name = QFileInfo(base->path).fileName();
    if (!base->stacks.recorded)
        return tr("The base %1 has no call stacks: this trace alone.").arg(name);
    if (!baseError_.isEmpty())
        return tr("The base's call stacks could not be read (%1): this trace alone.")
            .arg(baseError_);
    return tr("Compared with all sessions of %1: its value and the change beside each byte "
              "column.")
        .arg(name);
}

void AllocationSitesPage::showTree(const QString& scope) {
    const data::StackTree& tree = *model_->tree();
    const data::StackCost& all = tree.nodes.front().cost;
    QString text =
        tr("%1 in %2 block(s) from %n stack(s), in %3", nullptr, int(tree.stacks))
            .arg(formatBytes(double(all.bytes_allocated)), formatCount(all.blocks), scope);
    if (tree.stacks_left_out)
        text += tr(" (the %1 smallest stacks, %2, left out)")
                    .arg(formatCount(tree.stacks_left_out),
                         formatBytes(double(tree.left_out.bytes_allocated)));
    if (tree.stacks == 0) text = tr("No allocation with a call stack in %1.").arg(scope);
    if (const QString compare = compareText(); !compare.isEmpty())
        text += (text.endsWith(QLatin1Char('.')) ? QStringLiteral(" ") : QStringLiteral(". ")) +
                compare;
    header_->setText(text);
    // The largest path opened two levels deep: where most bytes come from, at a glance.
    QModelIndex first = proxy_->index(0, 0);
    for (int level = 0; level < 2 && first.isValid(); ++level, first = proxy_->index(0, 0, first))
        tree_->expand(first);
    tree_->resizeColumnToContents(StackTreeModel::Location);
    tree_->resizeColumnToContents(StackTreeModel::Module);
    if (model_->comparing()) placeCompareColumns();
    tree_->header()->setSectionResizeMode(StackTreeModel::Function, model_->comparing()
                                                                        ? QHeaderView::Interactive
                                                                        : QHeaderView::Stretch);
    Q_EMIT treeLoaded();
    Q_EMIT busyChanged();
}

void AllocationSitesPage::placeCompareColumns() {
    // Each base value and change right of its value (the model keeps them last, so the
    // other columns keep their numbers).
    QHeaderView* header = tree_->header();
    const std::pair<int, int> after[] = {
        {StackTreeModel::AllocatedBase, StackTreeModel::Allocated},
        {StackTreeModel::AllocatedChange, StackTreeModel::AllocatedBase},
        {StackTreeModel::LiveAtEndBase, StackTreeModel::LiveAtEnd},
        {StackTreeModel::LiveAtEndChange, StackTreeModel::LiveAtEndBase},
        {StackTreeModel::GrowthBase, StackTreeModel::GrowthPerRequest},
        {StackTreeModel::GrowthChange, StackTreeModel::GrowthBase}};
    for (const auto& [column, left] : after) {
        const int to = header->visualIndex(left) + 1;
        const int from = header->visualIndex(column);
        if (from != to) header->moveSection(from, from < to ? to - 1 : to);
    }
    // Fifteen columns do not fit beside a stretched function: each as wide as it needs (the
    // tree scrolls sideways), the function wide enough to read.
    for (int column = StackTreeModel::Allocated; column < StackTreeModel::ColumnCount; ++column)
        tree_->resizeColumnToContents(column);
    header->resizeSection(StackTreeModel::Function, 280);
}

} // namespace memlife::ui
