#include "export/chartexport.hpp"

#include <QChartView>
#include <QFileInfo>
#include <QPainter>
#include <QSvgGenerator>

namespace memlife::ui {

bool saveChart(QChartView& view, const QString& file, QString* error) {
    auto fail = [&](const QString& reason) {
        if (error) *error = QStringLiteral("%1: %2").arg(file, reason);
        return false;
    };
    if (QFileInfo(file).suffix().compare(QLatin1String("svg"), Qt::CaseInsensitive) == 0) {
        QSvgGenerator svg;
        svg.setFileName(file);
        svg.setSize(view.size());
        svg.setViewBox(QRect(QPoint(0, 0), view.size()));
        svg.setTitle(view.chart() ? view.chart()->title() : QString());
        svg.setDescription(QStringLiteral("memlife-gui chart"));
        QPainter painter;
        if (!painter.begin(&svg)) return fail(QStringLiteral("cannot write SVG"));
        view.render(&painter);
        painter.end();
        if (!QFileInfo(file).isFile() || QFileInfo(file).size() == 0)
            return fail(QStringLiteral("cannot write SVG"));
        return true;
    }
    if (!view.grab().save(file, "PNG")) return fail(QStringLiteral("cannot write PNG"));
    return true;
}

} // namespace memlife::ui
