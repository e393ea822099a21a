// The registry of views: name, tab title and factory of each page, in tab order. The window
// makes one tab per entry. Adding a built-in view is one entry in builtinViews()
// (pages/builtinviews.cpp); a view from elsewhere is one registerView() call.
#pragma once

#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

class QWidget;

namespace memlife::ui {

class TraceDocument;
class ViewPage;

struct ViewInfo {
    QString name;  // for --view and settings: "overview"
    QString title; // for the tab: "Overview"
    std::function<ViewPage*(TraceDocument*, QWidget*)> create;
};

// The views in tab order: the built-in ones, then registered ones.
const std::vector<ViewInfo>& views();
// Adds a view (or replaces the one with the same name). Call before creating a MainWindow.
void registerView(ViewInfo view);
QStringList viewNames();

} // namespace memlife::ui
