#include "pages/leakspage.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include "models/itemroles.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/rankedproxy.hpp"
#include "pages/pagelayout.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

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
    // Growing sessions carry the growth mark, by the document's rule.
    model_->setMaxGrowth(document->maxGrowth());
    connect(document, &TraceDocument::maxGrowthChanged, this,
            [this] { model_->setMaxGrowth(this->document()->maxGrowth()); });
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

} // namespace memlife::ui
