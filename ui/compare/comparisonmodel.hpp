// A comparison's figures as a table (memlife/data/compare.hpp): figure, BASE, NEW, the change
// (NEW minus BASE, with its sign, coloured by what it means: lower where lower is better is
// an improvement) and the verdict in words, so colour is never the only sign.
#pragma once

#include <QAbstractTableModel>
#include <QColor>

#include <vector>

#include "memlife/data/compare.hpp"

namespace memlife::ui {

// The colour of a change: an improvement, a regression, neither, or nothing to say.
QColor verdictColor(data::Verdict verdict, const QPalette& palette);

class ComparisonModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Figure, Base, New, Change, Verdict, ColumnCount };

    explicit ComparisonModel(QObject* parent = nullptr);
    // The rows: the figures of one comparison section (its totals, a group, a notification).
    void setMetrics(std::vector<data::MetricDelta> metrics);
    const data::MetricDelta* metric(int row) const;
    int rowOf(std::string_view key) const; // -1 when absent

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    std::vector<data::MetricDelta> metrics_;
};

} // namespace memlife::ui
