// The tail inspector: a corrupted block's expected and found tail bytes, row under row in hex
// groups of four with an ASCII column, the modified bytes marked (colour and bold) and the
// first one underlined; where the block was allocated and where the damage was found; and
// the report message; the block's allocating stack.
#pragma once

#include <QDialog>

#include "memlife/data/trace.hpp"
#include "window/loadedtrace.hpp"

class QLabel;

namespace memlife::ui {

class StackPanel;

class TailInspector : public QDialog {
    Q_OBJECT
public:
    static constexpr int kBytesPerRow = 8; // two groups of four
    static constexpr int kGroup = 4;

    // `trace` (optional) is where the allocating stack is read from (in a job).
    explicit TailInspector(const data::CorruptionRow& corruption, const TracePtr& trace = nullptr,
                           QWidget* parent = nullptr);
    const data::CorruptionRow& corruption() const { return corruption_; }
    // The first offset whose found byte differs from the expected one (-1: none differs).
    int firstModifiedOffset() const;
    QString hexHtml() const;     // the table of bytes, as shown
    QString summaryText() const; // the lines above it, as plain text

    // Where a corruption was found: "at connection close", "in URL_MAP of request 3",
    // "outside a request, after SEND_RAW_DATA" (the same words as `memlife report`).
    static QString detectionPlace(std::uint32_t request, Notification last);
    StackPanel* stackPanel() const { return stack_; } // the allocating stack

private:
    QString summaryHtml() const;

    data::CorruptionRow corruption_;
    QLabel* summary_ = nullptr;
    StackPanel* stack_ = nullptr;
};

} // namespace memlife::ui
