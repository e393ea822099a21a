// The tail inspector: a corrupted block's expected and found tail bytes side by side in
// hex, modified bytes marked (colour and bold) and the first modified offset underlined,
// with the report message.
#pragma once

#include <QDialog>

#include "memlife/data/trace.hpp"

class QTextBrowser;

namespace memlife::ui {

class TailInspector : public QDialog {
    Q_OBJECT
public:
    static constexpr int kBytesPerRow = 8;

    explicit TailInspector(const data::CorruptionRow& corruption, QWidget* parent = nullptr);
    const data::CorruptionRow& corruption() const { return corruption_; }
    // The first offset whose found byte differs from the expected one (-1: none differs).
    int firstModifiedOffset() const;
    QString hexHtml() const; // the side-by-side table, as shown

private:
    data::CorruptionRow corruption_;
    QTextBrowser* table_ = nullptr;
};

} // namespace memlife::ui
