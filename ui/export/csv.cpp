#include "export/csv.hpp"

#include <QAbstractItemModel>
#include <QSaveFile>

namespace memlife::ui {

QString csvLine(const QStringList& fields) {
    QString line;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i) line += QLatin1Char(',');
        QString field = fields[i];
        if (field.contains(QLatin1Char(',')) || field.contains(QLatin1Char('"')) ||
            field.contains(QLatin1Char('\n')) || field.contains(QLatin1Char('\r'))) {
            field.replace(QLatin1String("\""), QLatin1String("\"\""));
            field = QLatin1Char('"') + field + QLatin1Char('"');
        }
        line += field;
    }
    return line + QLatin1String("\r\n");
}

bool writeCsv(const QAbstractItemModel& model, const QString& file, QString* error) {
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly)) {
        if (error) *error = QStringLiteral("%1: %2").arg(file, out.errorString());
        return false;
    }
    QStringList fields;
    for (int c = 0; c < model.columnCount(); ++c)
        fields << model.headerData(c, Qt::Horizontal).toString();
    out.write(csvLine(fields).toUtf8());
    for (int r = 0; r < model.rowCount(); ++r) {
        fields.clear();
        for (int c = 0; c < model.columnCount(); ++c)
            fields << model.index(r, c).data().toString();
        out.write(csvLine(fields).toUtf8());
    }
    if (!out.commit()) {
        if (error) *error = QStringLiteral("%1: %2").arg(file, out.errorString());
        return false;
    }
    return true;
}

} // namespace memlife::ui
