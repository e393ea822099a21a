#include "window/warningbar.hpp"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>

#include <algorithm>

#include "style/style.hpp"

namespace memlife::ui {

WarningBar::WarningBar(QWidget* parent)
    : QFrame(parent), icon_(new QLabel(this)), text_(new QLabel(this)), status_(new QLabel) {
    setObjectName(QStringLiteral("warningBar"));
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    icon_->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(size, size));
    icon_->setAlignment(Qt::AlignTop);
    layout->addWidget(icon_);
    text_->setObjectName(QStringLiteral("warningText"));
    text_->setWordWrap(true);
    text_->setTextFormat(Qt::RichText);
    text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(text_, 1);
    status_->setObjectName(QStringLiteral("statusWarning"));
    applyPalette();
    update();
}

void WarningBar::setWarning(const QString& key, const QString& title, const QString& details) {
    const auto it = std::find_if(warnings_.begin(), warnings_.end(),
                                 [&key](const Warning& w) { return w.key == key; });
    if (it != warnings_.end())
        *it = {key, title, details};
    else
        warnings_.push_back({key, title, details});
    update();
}

void WarningBar::removeWarning(const QString& key) {
    if (std::erase_if(warnings_, [&key](const Warning& w) { return w.key == key; }) > 0) update();
}

void WarningBar::clear() {
    if (warnings_.empty()) return;
    warnings_.clear();
    update();
}

bool WarningBar::hasWarning(const QString& key) const {
    return std::any_of(warnings_.begin(), warnings_.end(),
                       [&key](const Warning& w) { return w.key == key; });
}

QStringList WarningBar::texts() const {
    QStringList out;
    for (const Warning& w : warnings_)
        out << w.title + QStringLiteral(": ") + w.details;
    return out;
}

void WarningBar::update() {
    QStringList lines;
    for (const Warning& w : warnings_)
        lines << QStringLiteral("<b>%1</b>: %2")
                     .arg(w.title.toHtmlEscaped(), w.details.toHtmlEscaped());
    text_->setText(lines.join(QStringLiteral("<br>")));
    setVisible(!warnings_.empty());
    status_->setVisible(!warnings_.empty());
    status_->setText(warnings_.size() == 1 ? QStringLiteral("⚠ ") + warnings_.front().title
                                           : tr("⚠ %1 warnings").arg(warnings_.size()));
    status_->setToolTip(texts().join(QLatin1Char('\n')));
    Q_EMIT changed();
}

void WarningBar::applyPalette() {
    // The leak colour's tint: a warning, not an error; readable on either palette.
    QPalette p = palette();
    p.setColor(QPalette::Window, rowTint(leakColor()));
    setPalette(p);
    status_->setStyleSheet(
        QStringLiteral("QLabel { color: %1; font-weight: bold; }").arg(leakColor().name()));
}

void WarningBar::changeEvent(QEvent* event) {
    QFrame::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && !inPaletteChange_) {
        inPaletteChange_ = true;
        applyPalette();
        inPaletteChange_ = false;
    }
}

} // namespace memlife::ui
