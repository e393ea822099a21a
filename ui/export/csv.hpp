// CSV export (RFC 4180 quoting) of any table model, in the model's row order as shown.
#pragma once

#include <QString>
#include <QStringList>

class QAbstractItemModel;
class QIODevice;

namespace memlife::ui {

QString csvLine(const QStringList& fields); // with the trailing "\r\n"
// Writes the header and every row's DisplayRole text. On failure returns false with a
// one-line message naming the file.
bool writeCsv(const QAbstractItemModel& model, const QString& file, QString* error);

} // namespace memlife::ui
