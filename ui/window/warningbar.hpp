// The window's one place for warnings about the open trace (a damaged batch, an incomplete
// recording, ...): a bar above the views, so every view shows it, and a short form in the
// status bar. Whoever finds something wrong adds a warning under a key of its own; opening
// another trace clears them all.
#pragma once

#include <QFrame>
#include <QString>

#include <vector>

class QLabel;

namespace memlife::ui {

class WarningBar : public QFrame {
    Q_OBJECT
public:
    explicit WarningBar(QWidget* parent = nullptr);

    // Adds the warning, or replaces the one with the same key. `title` is a few words (the
    // status bar shows it), `details` one or two sentences (the bar shows both).
    void setWarning(const QString& key, const QString& title, const QString& details);
    void removeWarning(const QString& key);
    void clear();
    bool hasWarning(const QString& key) const;
    // "title: details" of each warning, in the order they were added.
    QStringList texts() const;
    // The status bar's label: "⚠ title" (or "⚠ N warnings"), the details as its tooltip;
    // hidden while there is no warning.
    QLabel* statusLabel() const { return status_; }

Q_SIGNALS:
    void changed();

protected:
    void changeEvent(QEvent* event) override;

private:
    struct Warning {
        QString key, title, details;
    };
    void update();
    void applyPalette();

    std::vector<Warning> warnings_;
    bool inPaletteChange_ = false; // applyPalette changes the palette itself
    QLabel* icon_;
    QLabel* text_;
    QLabel* status_;
};

} // namespace memlife::ui
