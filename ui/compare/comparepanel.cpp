#include "compare/comparepanel.hpp"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QTableView>
#include <QVBoxLayout>

#include "compare/comparetraces.hpp"
#include "compare/comparisonmodel.hpp"
#include "compare/distributionchart.hpp"
#include "pages/pagelayout.hpp"
#include "style/format.hpp"

namespace memlife::ui {

namespace {

// The totals, then what each notification kept until the close per request (the figure a
// fix of a keep-alive leak moves).
std::vector<data::MetricDelta> shownMetrics(const data::Comparison& c) {
    std::vector<data::MetricDelta> metrics = c.totals;
    for (const data::RowComparison& row : c.by_notification) {
        if (const data::MetricDelta* kept = row.find("kept_bytes_per_request")) {
            data::MetricDelta m = *kept;
            m.key = row.key + "." + m.key;
            m.label = row.label + ": " + m.label;
            metrics.push_back(std::move(m));
        }
    }
    return metrics;
}

} // namespace

ComparePanel::ComparePanel(QWidget* parent)
    : QWidget(parent), model_(new ComparisonModel(this)), job_(this) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    header_ = new QLabel(this);
    header_->setObjectName(QStringLiteral("compareHeader"));
    header_->setWordWrap(true);
    // Comparing decodes both traces' events: a large pair takes seconds.
    progress_ = new QProgressBar(this);
    progress_->setObjectName(QStringLiteral("compareProgress"));
    progress_->setRange(0, 100);
    progress_->setMaximumWidth(220);
    progress_->hide();
    auto* top = new QHBoxLayout;
    top->addWidget(header_, 1);
    top->addWidget(progress_);
    layout->addLayout(top);
    auto* row = new QHBoxLayout;
    peak_ = new DistributionChart(DistributionChart::Figure::Peak, this);
    peak_->setObjectName(QStringLiteral("peakDistribution"));
    growth_ = new DistributionChart(DistributionChart::Figure::Growth, this);
    growth_->setObjectName(QStringLiteral("growthDistribution"));
    table_ = makeTable(this, false); // in memlife diff's order: totals, then notifications
    table_->setObjectName(QStringLiteral("comparisonTable"));
    table_->setModel(model_);
    table_->horizontalHeader()->setStretchLastSection(true);
    row->addWidget(peak_, 2);
    row->addWidget(growth_, 2);
    row->addWidget(table_, 5);
    layout->addLayout(row, 1);
}

void ComparePanel::setTraces(TracePtr base, TracePtr next) {
    job_.discard();
    progress_->hide();
    comparison_.reset();
    model_->setMetrics({});
    peak_->setTraces(base, next);
    growth_->setTraces(base, next);
    if (!base || !next) {
        header_->clear();
        return;
    }
    header_->setText(tr("Compared with %1 (the base, dashed): each change is this trace minus "
                        "the base. Comparing…")
                         .arg(QFileInfo(base->path).fileName()));
    progress_->setValue(0);
    progress_->show();
    job_.start<data::Comparison>({
        .work = [base,
                 next](const JobControl& job) { return compareTraces(*base, *next, {}, job); },
        .done =
            [this](data::Comparison c) {
                progress_->hide();
                show(std::move(c));
            },
        .failed =
            [this](const QString& message) {
                progress_->hide();
                header_->setText(readErrorText(message));
                Q_EMIT updated();
            },
        .progress = [this](int percent) { progress_->setValue(percent); },
    });
}

void ComparePanel::show(data::Comparison comparison) {
    auto shared = std::make_shared<const data::Comparison>(std::move(comparison));
    const data::Comparison& c = *shared;
    model_->setMetrics(shownMetrics(c));
    table_->resizeColumnsToContents();
    QString text = tr("Compared with %1 (the base, dashed): each change is this trace minus the "
                      "base; within %2% of the base's value it is the same.")
                       .arg(QFileInfo(QString::fromStdString(c.base.path)).fileName())
                       .arg(c.noise_percent);
    QStringList missing;
    for (const std::string& line : c.not_compared)
        missing << QString::fromStdString(line);
    for (const std::string& line : c.notes)
        missing << QString::fromStdString(line);
    if (!missing.isEmpty())
        text += QLatin1Char(' ') +
                tr("Not compared or to note: %1.").arg(missing.join(QStringLiteral("; ")));
    header_->setText(text);
    comparison_ = std::move(shared);
    Q_EMIT updated();
}

} // namespace memlife::ui
