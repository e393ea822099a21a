// The blocks of one session (the focus session), filtered by tail, leak or liveness, with
// the current block's allocating stack and the tail inspector for a corrupted block.
#pragma once

#include <optional>

#include <QPointer>

#include "pages/tailinspector.hpp"
#include "pages/viewpage.hpp"

class QComboBox;
class QLabel;
class QPushButton;
class QSplitter;
class QTableView;

namespace memlife::ui {

class BlocksModel;
class BlocksProxy;
class StackPanel;

class BlocksPage : public ViewPage {
    Q_OBJECT
public:
    BlocksPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    bool isBusy() const override;
    QByteArray saveLayout() const override;
    void restoreLayout(const QByteArray& state) override;
    BlocksModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    // Opens the inspector for the block at a proxy row if its tail is corrupted.
    TailInspector* inspect(int row);
    TailInspector* inspector() const { return inspector_; }
    StackPanel* stackPanel() const { return stack_; } // the current block's allocating stack

protected:
    void traceChanged() override;
    void traceUpdated(const TraceUpdate& update) override;
    void refresh() override;

    // Why the page shows this session (selected, else the first corrupted, else the highest
    // peak): the header's second line.
    QString whyShown(const data::SessionRow& session) const;

private:
    void onLoaded();
    void updateButtons();

    BlocksModel* model_;
    BlocksProxy* proxy_;
    QComboBox* filter_;
    QLabel* header_;
    QPushButton* inspectButton_;
    QSplitter* splitter_;
    QTableView* table_;
    StackPanel* stack_;
    QPointer<TailInspector> inspector_;
    // The block that was current when a followed trace's update re-read the blocks.
    std::optional<std::uint64_t> keptBlock_;
};

} // namespace memlife::ui
