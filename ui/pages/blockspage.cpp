#include "pages/blockspage.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

#include "follow/traceupdate.hpp"
#include "models/blocksmodel.hpp"
#include "models/blocksproxy.hpp"
#include "models/itemroles.hpp"
#include "pages/pagelayout.hpp"
#include "pages/stackpanel.hpp"
#include "style/format.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

BlocksPage::BlocksPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new BlocksModel(this)), proxy_(new BlocksProxy(this)) {
    proxy_->setSourceModel(model_);
    proxy_->setSortRole(SortRole);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = toolbarRow(layout);
    header_ = new QLabel(this);
    header_->setObjectName(QStringLiteral("blocksHeader"));
    header_->setTextFormat(Qt::RichText);
    header_->setWordWrap(true);
    top->addWidget(header_, 1);
    top->addWidget(new QLabel(tr("Show:"), this));
    filter_ = new QComboBox(this);
    filter_->addItem(tr("all blocks"), BlocksProxy::AllBlocks);
    filter_->addItem(tr("corrupted tails"), BlocksProxy::CorruptedBlocks);
    filter_->addItem(tr("leaked"), BlocksProxy::LeakedBlocks);
    filter_->addItem(tr("outlived their connection"), BlocksProxy::OutlivedBlocks);
    filter_->addItem(tr("live at the end"), BlocksProxy::LiveBlocks);
    top->addWidget(filter_);
    inspectButton_ = new QPushButton(tr("Inspect tail…"), this);
    inspectButton_->setEnabled(false);
    top->addWidget(inspectButton_);

    splitter_ = new QSplitter(Qt::Vertical, this);
    table_ = makeTable(splitter_, true);
    table_->setObjectName(QStringLiteral("blocksTable"));
    table_->setModel(proxy_);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->sortByColumn(BlocksModel::Id, Qt::AscendingOrder);
    stack_ = new StackPanel(splitter_); // the current block's allocating stack
    splitter_->addWidget(table_);
    splitter_->addWidget(stack_);
    splitter_->setStretchFactor(0, 3);
    splitter_->setStretchFactor(1, 1);
    splitter_->setSizes({600, 200});
    layout->addWidget(splitter_, 1);

    connect(filter_, &QComboBox::currentIndexChanged, this, [this](int index) {
        proxy_->setMode(static_cast<BlocksProxy::Filter>(filter_->itemData(index).toInt()));
    });
    connect(model_, &BlocksModel::loaded, this, &BlocksPage::onLoaded);
    connect(model_, &BlocksModel::failed, this, [this](const QString& message) {
        header_->setText(tr("Cannot read blocks: %1").arg(message.toHtmlEscaped()));
        Q_EMIT busyChanged();
    });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &BlocksPage::updateButtons);
    connect(stack_, &StackPanel::loaded, this, &ViewPage::busyChanged);
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
    return model_->isLoading() || stack_->isLoading();
}

QByteArray BlocksPage::saveLayout() const {
    return splitter_->saveState();
}

void BlocksPage::restoreLayout(const QByteArray& state) {
    splitter_->restoreState(state);
}

void BlocksPage::traceChanged() {
    model_->setSession(nullptr, 0);
    if (inspector_) inspector_->close();
}

void BlocksPage::traceUpdated(const TraceUpdate& update) {
    const std::uint64_t session = model_->session();
    const bool moved =
        std::find(update.changed.begin(), update.changed.end(), session) != update.changed.end();
    if (!moved || session == 0) return; // its blocks are as shown
    if (!isVisible()) {                 // read when shown (refresh)
        model_->setSession(nullptr, 0);
        return;
    }
    const QModelIndex current = table_->currentIndex();
    if (const data::BlockRow* block =
            current.isValid() ? model_->row(proxy_->mapToSource(current).row()) : nullptr)
        keptBlock_ = block->id;
    model_->setSession(document()->trace(), session);
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
            tr("<b>Blocks of session %1</b> (%2): %3 block(s), %4 corrupted tail(s), %5 leak(s)")
                .arg(s->id)
                .arg(QString::fromStdString(s->peer).toHtmlEscaped())
                .arg(formatCount(model_->totalBlocks()))
                .arg(s->corruptions)
                .arg(s->leaks);
        if (s->outlived != 0) text += tr(", %1 outlived the connection").arg(s->outlived);
        if (model_->totalBlocks() > std::uint64_t(model_->rowCount()))
            text +=
                tr(" (showing the first %1)").arg(formatCount(std::uint64_t(model_->rowCount())));
        header_->setText(text + QStringLiteral("<br>") + whyShown(*s).toHtmlEscaped());
    }
    table_->resizeColumnsToContents();
    // Bring the first corrupted block (else the first leaked or outlived one) into view: it is
    // why one opens this page.
    int problem = -1;
    for (int row = 0; row < proxy_->rowCount(); ++row) {
        const data::BlockRow* block = model_->row(proxy_->mapToSource(proxy_->index(row, 0)).row());
        if (block->tail == data::TailStatus::Corrupted) {
            problem = row;
            break;
        }
        if ((block->leaked || block->outlived) && problem < 0) problem = row;
    }
    if (keptBlock_) { // re-read for a followed trace: the block that was current stays
        for (int row = 0; row < proxy_->rowCount(); ++row)
            if (model_->row(proxy_->mapToSource(proxy_->index(row, 0)).row())->id == *keptBlock_)
                problem = row;
        keptBlock_.reset();
    }
    if (problem >= 0) {
        table_->setCurrentIndex(proxy_->index(problem, 0));
        table_->scrollTo(proxy_->index(problem, 0), QAbstractItemView::PositionAtCenter);
    }
    updateButtons();
    Q_EMIT busyChanged();
}

QString BlocksPage::whyShown(const data::SessionRow& session) const {
    // The rule of TraceDocument::focusSession, in words.
    if (!document()->selection().empty())
        return document()->selection().size() == 1
                   ? tr("Shown because it is the selected session.")
                   : tr("Shown because it is the first of the %1 selected sessions.")
                         .arg(document()->selection().size());
    if (session.corruptions > 0)
        return tr("No session is selected: this is the first session with a corrupted tail. "
                  "Select a session (Overview, Leak suspects) to see its blocks.");
    return tr("No session is selected: this is the session with the highest peak. Select a "
              "session (Overview, Leak suspects) to see its blocks.");
}

void BlocksPage::updateButtons() {
    const QModelIndex current = table_->currentIndex();
    const data::BlockRow* block =
        current.isValid() ? model_->row(proxy_->mapToSource(current).row()) : nullptr;
    inspectButton_->setEnabled(block && block->tail == data::TailStatus::Corrupted);
    if (!block) {
        stack_->showStack(nullptr, 0);
        stack_->setPlainText(tr("Select a block to see the call stack that allocated it."));
    } else if (block->stack != stack_->stack() || block->stack == 0) {
        stack_->showStack(document()->trace(), block->stack);
    }
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
        inspector_ = new TailInspector(c, trace, this);
        inspector_->setAttribute(Qt::WA_DeleteOnClose);
        inspector_->show();
        return inspector_;
    }
    return nullptr;
}

} // namespace memlife::ui
