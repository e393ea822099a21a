#include "compare/comparisonmodel.hpp"

#include <QApplication>
#include <QPalette>

#include "models/itemroles.hpp"
#include "style/style.hpp"

namespace memlife::ui {

QColor verdictColor(data::Verdict verdict, const QPalette& palette) {
    switch (verdict) {
    case data::Verdict::Better:
        return improvementColor();
    case data::Verdict::Worse:
        return corruptionColor();
    case data::Verdict::Changed:
        return palette.color(QPalette::Text);
    case data::Verdict::Same:
    case data::Verdict::NotCompared:
        break;
    }
    return palette.color(QPalette::Disabled, QPalette::Text);
}

ComparisonModel::ComparisonModel(QObject* parent) : QAbstractTableModel(parent) {}

void ComparisonModel::setMetrics(std::vector<data::MetricDelta> metrics) {
    beginResetModel();
    metrics_ = std::move(metrics);
    endResetModel();
}

const data::MetricDelta* ComparisonModel::metric(int row) const {
    return row >= 0 && row < rowCount() ? &metrics_[static_cast<std::size_t>(row)] : nullptr;
}

int ComparisonModel::rowOf(std::string_view key) const {
    for (std::size_t i = 0; i < metrics_.size(); ++i)
        if (metrics_[i].key == key) return static_cast<int>(i);
    return -1;
}

int ComparisonModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(metrics_.size());
}

int ComparisonModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

namespace {

QString valueText(const std::optional<double>& value, const std::string& missing,
                  data::Measure measure) {
    return QString::fromStdString(value ? data::format_measure(*value, measure) : missing);
}

QVariant sortValue(const std::optional<double>& value) {
    return value ? QVariant(*value) : QVariant();
}

} // namespace

QVariant ComparisonModel::data(const QModelIndex& index, int role) const {
    const data::MetricDelta* m = metric(index.row());
    if (m == nullptr) return {};
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case Figure:
            return QString::fromStdString(m->label);
        case Base:
            return valueText(m->base, m->base_missing, m->measure);
        case New:
            return valueText(m->next, m->next_missing, m->measure);
        case Change:
            return QString::fromStdString(data::format_change(*m));
        case Verdict:
            return QString::fromUtf8(data::verdict_name(m->verdict).data());
        }
        break;
    case SortRole:
        switch (column) {
        case Figure:
            return QString::fromStdString(m->label);
        case Base:
            return sortValue(m->base);
        case New:
            return sortValue(m->next);
        case Change:
            return m->base && m->next ? QVariant(m->change()) : QVariant();
        case Verdict:
            return static_cast<int>(m->verdict);
        }
        break;
    case Qt::ForegroundRole:
        if (column == Change || column == Verdict)
            return verdictColor(m->verdict, QApplication::palette());
        break;
    case Qt::ToolTipRole:
        if (m->verdict == data::Verdict::NotCompared)
            return tr("Not compared: %1").arg(QString::fromStdString(m->why_not));
        break;
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(column == Figure || column == Verdict
                                       ? Qt::AlignLeft | Qt::AlignVCenter
                                       : Qt::AlignRight | Qt::AlignVCenter);
    default:
        break;
    }
    return {};
}

QVariant ComparisonModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Figure:
        return tr("Figure");
    case Base:
        return tr("Base");
    case New:
        return tr("This trace");
    case Change:
        return tr("Change");
    case Verdict:
        return tr("Verdict");
    }
    return {};
}

} // namespace memlife::ui
