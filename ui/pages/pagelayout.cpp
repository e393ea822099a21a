#include "pages/pagelayout.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace memlife::ui {

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

QHBoxLayout* pageWithHeader(QWidget* page, QLabel** header, const QString& objectName) {
    auto* layout = new QVBoxLayout(page);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* top = toolbarRow(layout);
    *header = new QLabel(page);
    (*header)->setObjectName(objectName);
    top->addWidget(*header, 1);
    return top;
}

} // namespace memlife::ui
