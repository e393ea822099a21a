// Widgets the pages build alike: a table view set up for the views, a toolbar row.
#pragma once

class QHBoxLayout;
class QLabel;
class QString;
class QTableView;
class QVBoxLayout;
class QWidget;

namespace memlife::ui {

// A table with whole-row selection, alternating rows, fixed row height, left-aligned
// headers; sortable by clicking a header if `sortable`.
QTableView* makeTable(QWidget* parent, bool sortable);
// A row of controls at the top of `layout`.
QHBoxLayout* toolbarRow(QVBoxLayout* layout);
// A page's column layout and its toolbar row, which starts with a header label (the page's
// one-line summary, stretched) named `objectName`.
QHBoxLayout* pageWithHeader(QWidget* page, QLabel** header, const QString& objectName);

} // namespace memlife::ui
