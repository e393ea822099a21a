// The item roles every model of the views answers besides Qt's own, so a proxy, a page or a
// test can ask any table the same way (sorting uses SortRole: raw numbers, never the
// formatted text).
#pragma once

#include <Qt>

namespace memlife::ui {

enum ItemRole {
    SortRole = Qt::UserRole + 1, // raw value (qulonglong / double / QString)
    SessionIdRole,               // qulonglong session id of the row
    ProblemRole,                 // bool: the row has a finding (corruption, leak, growth)
    BlockIdRole,                 // qulonglong block id (blocks, events)
};

} // namespace memlife::ui
