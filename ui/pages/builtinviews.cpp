#include "pages/builtinviews.hpp"

#include <type_traits>

#include "pages/allocationsitespage.hpp"
#include "pages/blockspage.hpp"
#include "pages/eventspage.hpp"
#include "pages/growthpage.hpp"
#include "pages/leakspage.hpp"
#include "pages/overviewpage.hpp"
#include "teaching/teachingpage.hpp"

namespace memlife::ui {

std::vector<ViewInfo> builtinViews() {
    auto make = [](auto tag) {
        using Page = typename decltype(tag)::type;
        return [](TraceDocument* document, QWidget* parent) -> ViewPage* {
            return new Page(document, parent);
        };
    };
    return {
        {QStringLiteral("overview"), QObject::tr("Overview"),
         make(std::type_identity<OverviewPage>{})},
        {QStringLiteral("growth"), QObject::tr("Growth"), make(std::type_identity<GrowthPage>{})},
        {QStringLiteral("leaks"), QObject::tr("Leak suspects"),
         make(std::type_identity<LeaksPage>{})},
        {QStringLiteral("sites"), QObject::tr("Allocation sites"),
         make(std::type_identity<AllocationSitesPage>{})},
        {QStringLiteral("blocks"), QObject::tr("Blocks"), make(std::type_identity<BlocksPage>{})},
        {QStringLiteral("events"), QObject::tr("Event log"),
         make(std::type_identity<EventsPage>{})},
        {QStringLiteral("teaching"), QObject::tr("Teaching"),
         make(std::type_identity<TeachingPage>{})},
    };
}

} // namespace memlife::ui
