// What the overview and the growth view share about the sessions they draw: the control
// choosing them when nothing is selected (TraceDocument::ChartChoice, one setting for both
// views) and the words that say which sessions are drawn, or why none is.
#pragma once

#include <QString>

class QComboBox;
class QWidget;

namespace memlife::ui {

class TraceDocument;

// A combo box bound both ways to document->chartChoice().
QComboBox* chartChoiceBox(TraceDocument* document, QWidget* parent);
// "the 8 sessions growing fastest per request (of 300)", "the 2 selected sessions", ...
QString chartSessionsCaption(const TraceDocument& document);
// Why no session is drawn ("No session has a finding: ..."), or empty.
QString chartSessionsEmptyText(const TraceDocument& document);

} // namespace memlife::ui
