// The teaching view's words: for each notification, when it fires, what a filter may do
// there and how long memory allocated there lives; the same for the steps that are not
// notifications (connection open/close, request begin/end). Our own words, kept in one
// table (teachingtexts.cpp) so they can be reviewed together.
#pragma once

#include <QString>

#include "teaching/teachingmodel.hpp"

namespace memlife::ui {

struct StepLesson {
    QString name;        // "URL_MAP", "Request ends"
    QString when;        // when it fires / happens
    QString filterMay;   // what a filter may do there (empty for non-notifications)
    QString memoryLives; // what memory allocated there lives until
};

// The lesson of a diagram row, in the words of the lesson's server (nginx's pools and phases
// for an nginx capture).
StepLesson lessonFor(DiagramSlot slot, LessonServer server = LessonServer::Isapi);
// A one-line caption: "URL_MAP (request 2, 2nd time)", "Request 2: r->pool destroyed".
QString stepCaption(const TeachingStep& step, LessonServer server = LessonServer::Isapi);

// What the two scopes are called in a lesson, and how long each lives.
struct ScopeNames {
    QString session;      // "connection-scoped (AllocMem)", "connection pool (c->pool)"
    QString request;      // "request-scoped", "request pool (r->pool)"
    QString sessionLives; // "until the connection closes"
    QString requestLives; // "until the request ends"
};
ScopeNames scopeNames(LessonServer server);
// The explanation of a step as rich text: the lesson, what this step allocated and
// released, the live bytes by scope, and the order violations with their rules.
QString stepExplanation(const TeachingScript& script, int step);
// The description of a rule id of the order checker ("" if unknown).
QString ruleDescription(const std::string& rule);
// The short condition badge of a diagram row ("1st request", "on 401", ...), or "".
QString conditionBadge(DiagramSlot slot);
bool slotRepeats(DiagramSlot slot);

} // namespace memlife::ui
