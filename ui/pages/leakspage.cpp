#include "pages/leakspage.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "models/itemroles.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/rankedproxy.hpp"
#include "models/stacktreemodel.hpp"
#include "pages/pagelayout.hpp"
#include "pages/stackpanel.hpp"
#include "style/format.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

LeaksPage::LeaksPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new LeakSuspectsModel(this)),
      proxy_(new RankedProxy(this)), sitesJob_(this) {
    proxy_->setSourceModel(model_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = toolbarRow(layout);
    top->addWidget(new QLabel(tr("Rank by:"), this));
    ranking_ = new QComboBox(this);
    ranking_->setObjectName(QStringLiteral("leakRanking"));
    ranking_->addItem(tr("growth per request"), ByGrowth);
    ranking_->addItem(tr("leaked bytes"), ByLeakedBytes);
    ranking_->addItem(tr("bytes outliving their connection"), ByOutlivedBytes);
    top->addWidget(ranking_);
    summary_ = new QLabel(this);
    top->addWidget(summary_, 1);
    table_ = makeTable(this, true);
    table_->setObjectName(QStringLiteral("leakSuspectsTable"));
    table_->setModel(proxy_);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    // Columns as wide as their contents (the peer's up to a limit, the rest elided with its
    // tooltip): the figures, not the peer label, fill the table.
    table_->horizontalHeader()->setStretchLastSection(false);
    layout->addWidget(table_, 1);
    empty_ = new QLabel(this);
    empty_->setObjectName(QStringLiteral("leakSuspectsEmpty"));
    empty_->setWordWrap(true);
    empty_->setAlignment(Qt::AlignCenter);
    empty_->hide();
    layout->addWidget(empty_, 1);
    hint_ = new QLabel(tr("Double-click a session to see its blocks."), this);
    layout->addWidget(hint_);

    connect(ranking_, &QComboBox::currentIndexChanged, this, [this](int index) {
        setRanking(static_cast<Ranking>(ranking_->itemData(index).toInt()));
    });
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        this->document()->setSelection({index.data(SessionIdRole).toULongLong()});
        Q_EMIT viewRequested(QStringLiteral("blocks"));
    });
    setRanking(ByGrowth);
    // Growing sessions carry the growth mark, by the document's rule.
    model_->setMaxGrowth(document->maxGrowth());
    connect(document, &TraceDocument::maxGrowthChanged, this,
            [this] { model_->setMaxGrowth(this->document()->maxGrowth()); });
}

QAbstractItemModel* LeaksPage::tableModel() {
    return proxy_;
}

void LeaksPage::setRanking(Ranking ranking) {
    const int column = ranking == ByGrowth        ? LeakSuspectsModel::GrowthPerRequest
                       : ranking == ByLeakedBytes ? LeakSuspectsModel::LeakedBytes
                                                  : LeakSuspectsModel::OutlivedBytes;
    table_->sortByColumn(column, Qt::DescendingOrder);
    const int comboIndex = ranking_->findData(ranking);
    if (ranking_->currentIndex() != comboIndex) ranking_->setCurrentIndex(comboIndex);
}

void LeaksPage::traceChanged() {
    sitesJob_.discard();
    sitesLoaded_ = false;
    model_->setTrace(document()->trace());
    // Outlived blocks exist only in memlife record's traces: elsewhere no columns of zeros,
    // and no ranking by them.
    const bool outlived = document()->trace() && document()->trace()->tracksOutlived();
    table_->setColumnHidden(LeakSuspectsModel::OutlivedBytes, !outlived);
    table_->setColumnHidden(LeakSuspectsModel::Outlived, !outlived);
    if (auto* items = qobject_cast<QStandardItemModel*>(ranking_->model()))
        if (QStandardItem* item = items->item(ranking_->findData(ByOutlivedBytes)))
            item->setEnabled(outlived);
    if (!outlived && ranking_->currentData().toInt() == ByOutlivedBytes)
        ranking_->setCurrentIndex(ranking_->findData(ByGrowth));
    table_->resizeColumnsToContents();
    const int peerWidth = std::min(table_->columnWidth(LeakSuspectsModel::Peer),
                                   table_->fontMetrics().averageCharWidth() * kPeerChars);
    table_->setColumnWidth(LeakSuspectsModel::Peer, peerWidth);
    showSummary();
}

void LeaksPage::traceUpdated(const TraceUpdate&) {
    model_->setTrace(document()->trace(), true);
    // New suspects get their sites at the next refresh; a running job goes on (restarting it
    // on every update would never finish).
    if (!sitesJob_.isRunning()) sitesLoaded_ = false;
    showSummary();
}

void LeaksPage::showSummary() {
    const bool outlived = document()->trace() && document()->trace()->tracksOutlived();
    summary_->setText(
        (outlived ? tr("%1 suspect session(s): growing by ≥ 1 B per request, leaking blocks, "
                       "or keeping blocks after the connection closed")
                  : tr("%1 suspect session(s): growing by ≥ 1 B per request or leaking blocks"))
            .arg(model_->rowCount()));
    // An empty list says why, in place of an empty table.
    const bool none = model_->rowCount() == 0;
    table_->setVisible(!none);
    hint_->setVisible(!none);
    empty_->setVisible(none);
    if (!document()->trace())
        empty_->setText(tr("Open a trace to see its leak suspects."));
    else if (none)
        empty_->setText(
            outlived ? tr("No leak suspects in this trace: no session's live bytes grow from "
                          "request to request, no block was reported as leaked, and none "
                          "outlived its connection.")
                     : tr("No leak suspects in this trace: no session's live bytes grow from "
                          "request to request, and no block was reported as leaked."));
}

void LeaksPage::refresh() {
    const TracePtr& trace = document()->trace();
    if (sitesLoaded_ || !trace || !trace->stacks.recorded || model_->rowCount() == 0) return;
    sitesLoaded_ = true;
    using Sites = LeakSuspectsModel::GrowingSites;
    // Sessions that kept blocks after their connection closed: their suspect stack is the one
    // that allocated those bytes, when none grows.
    std::vector<std::uint64_t> sessions = model_->sessionIds(), keeping;
    for (std::uint64_t id : sessions)
        if (const data::SessionRow* s = trace->session(id); s != nullptr && s->outlived != 0)
            keeping.push_back(id);
    sitesJob_.start<Sites>({
        .work =
            [readers = trace->readers, sessions = std::move(sessions),
             keeping = std::move(keeping)](const JobControl& job) {
                Sites sites;
                const auto site = [](const data::StackReader& reader, std::uint64_t stack) {
                    const std::vector<data::StackFrame> frames = reader.frames(stack);
                    LeakSuspectsModel::GrowingSite s;
                    if (frames.empty()) return s;
                    s.frame = frameFunction(frames[0]);
                    if (!frames[0].file.empty())
                        s.frame += QStringLiteral(" at ") + frameLocation(frames[0]);
                    s.stackHtml = StackPanel::framesHtml(frames);
                    return s;
                };
                readers->useStacks([&](const data::StackReader& reader) {
                    for (std::uint64_t session : sessions) {
                        if (job.canceled()) return;
                        const std::vector<data::StackCost> top = reader.top_stacks(
                            {.sessions = {session}, .order = data::StackOrder::Growth, .limit = 1});
                        if (top.empty() || top[0].growth_bytes_per_request <= 0) continue;
                        LeakSuspectsModel::GrowingSite s = site(reader, top[0].stack);
                        s.growth = top[0].growth_bytes_per_request;
                        if (!s.frame.isEmpty()) sites[session] = std::move(s);
                    }
                });
                // The outlived blocks' stacks come from their Alloc events (one pass over
                // each such session's blocks).
                for (std::uint64_t session : keeping) {
                    if (job.canceled() || sites.count(session) != 0) continue;
                    std::unordered_map<std::uint64_t, std::uint64_t> kept; // stack -> bytes
                    readers->use([&](const data::TraceReader& reader) {
                        std::unordered_set<std::uint64_t> blocks;
                        for (const data::OutlivedRow& o : reader.outlived(session))
                            blocks.insert(o.block);
                        reader.for_each_block(session, [&](const data::BlockRow& b) {
                            if (b.stack != 0 && blocks.count(b.id) != 0) kept[b.stack] += b.size;
                            return !job.canceled();
                        });
                    });
                    const auto most = std::max_element(
                        kept.begin(), kept.end(),
                        [](const auto& a, const auto& b) { return a.second < b.second; });
                    if (most == kept.end()) continue;
                    readers->useStacks([&](const data::StackReader& reader) {
                        LeakSuspectsModel::GrowingSite s = site(reader, most->first);
                        s.kept_bytes = most->second;
                        if (!s.frame.isEmpty()) sites[session] = std::move(s);
                    });
                }
                return sites;
            },
        .done =
            [this](Sites sites) {
                model_->setGrowingSites(std::move(sites));
                table_->resizeColumnToContents(LeakSuspectsModel::GrowingStack);
                Q_EMIT busyChanged();
            },
        .failed =
            [this](const QString& message) {
                summary_->setText(readErrorText(message));
                Q_EMIT busyChanged();
            },
    });
    Q_EMIT busyChanged();
}

} // namespace memlife::ui
