// The notifications as data: the canonical order, the ranks and the filter statuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "memlife/filter.h"
#include "memlife/notification.hpp"

using namespace memlife;
using enum Notification;

TEST(NotificationOrder, OneRequestFollowsTheReference) {
    const std::vector<Notification> expected{ReadRawData,    PreprocHeaders, UrlMap,
                                             Authentication, AuthComplete,   SendResponse,
                                             SendRawData,    EndOfRequest,   Log};
    EXPECT_EQ(canonical_request_order(), expected);
}

TEST(NotificationOrder, ShapeSetsRepeatsAndConditions) {
    RequestShape shape;
    shape.raw_reads = 2;
    shape.url_maps = 3;
    shape.authentication = false;
    shape.body_reads = 2;
    shape.raw_sends = 4;
    const std::vector<Notification> expected{ReadRawData, ReadRawData,  PreprocHeaders, UrlMap,
                                             UrlMap,      UrlMap,       AuthComplete,   ReadRawData,
                                             ReadRawData, SendResponse, SendRawData,    SendRawData,
                                             SendRawData, SendRawData,  EndOfRequest,   Log};
    EXPECT_EQ(canonical_request_order(shape), expected);

    // A denied request gets ACCESS_DENIED and its body is not read.
    shape.access_denied = true;
    const auto denied = canonical_request_order(shape);
    EXPECT_EQ(std::count(denied.begin(), denied.end(), AccessDenied), 1);
    EXPECT_EQ(std::count(denied.begin(), denied.end(), ReadRawData), 2);
    const auto at = std::find(denied.begin(), denied.end(), AccessDenied);
    EXPECT_EQ(*(at - 1), AuthComplete);
    EXPECT_EQ(*(at + 1), SendResponse);
}

TEST(NotificationOrder, ZeroCountsStillFireTheRequiredOnes) {
    RequestShape shape;
    shape.raw_reads = 0;
    shape.url_maps = 0;
    shape.raw_sends = 0;
    EXPECT_EQ(canonical_request_order(shape), canonical_request_order());
}

TEST(NotificationOrder, KeepAliveConnectionAuthenticatesOnceAndEndsOnce) {
    const auto order = canonical_connection_order(4);
    const auto one = canonical_request_order();
    EXPECT_EQ(order.size(), 4 * one.size() - 3 + 1); // AUTHENTICATION only once
    EXPECT_EQ(std::count(order.begin(), order.end(), Authentication), 1);
    EXPECT_EQ(std::count(order.begin(), order.end(), Log), 4);
    EXPECT_EQ(std::count(order.begin(), order.end(), EndOfNetSession), 1);
    EXPECT_EQ(order.back(), EndOfNetSession);
    EXPECT_TRUE(std::equal(one.begin(), one.end(), order.begin()));
}

TEST(NotificationOrder, WithoutKeepAliveEveryRequestAuthenticates) {
    RequestShape shape;
    shape.authentication = false; // overridden: without keep-alive it always fires
    const auto order = canonical_connection_order(3, false, shape);
    EXPECT_EQ(std::count(order.begin(), order.end(), Authentication), 3);
    EXPECT_EQ(canonical_connection_order(0), std::vector<Notification>{EndOfNetSession});
}

TEST(NotificationOrder, RanksRiseAlongTheCanonicalOrderExceptBodyReads) {
    RequestShape shape;
    shape.body_reads = 1;
    int previous = -1;
    for (Notification n : canonical_request_order(shape)) {
        int rank = canonical_rank(n);
        if (n == ReadRawData && previous > 0) rank = kBodyReadRank;
        EXPECT_GE(rank, previous) << name(n);
        previous = rank;
    }
    EXPECT_EQ(canonical_rank(EndOfRequest), canonical_rank(Log));
    EXPECT_LT(canonical_rank(AccessDenied), kBodyReadRank);
    EXPECT_LT(kBodyReadRank, canonical_rank(SendResponse));
    EXPECT_GT(canonical_rank(EndOfNetSession), canonical_rank(Log));
    EXPECT_EQ(canonical_rank(None), -1);
}

TEST(FilterStatusValues, MatchHttpfiltAndAreConsecutive) {
    EXPECT_EQ(static_cast<std::uint32_t>(FilterStatus::ReqFinished), 0x8000000u);
    EXPECT_EQ(ML_STATUS_REQ_FINISHED_KEEP_CONN, 0x8000001);
    EXPECT_EQ(ML_STATUS_REQ_NEXT_NOTIFICATION, 0x8000002);
    EXPECT_EQ(ML_STATUS_REQ_HANDLED_NOTIFICATION, 0x8000003);
    EXPECT_EQ(ML_STATUS_REQ_ERROR, 0x8000004);
    EXPECT_EQ(static_cast<std::uint32_t>(FilterStatus::ReadNext), 0x8000005u);
    EXPECT_EQ(ML_FILTER_ORDER_HIGH, 0x00080000);
    EXPECT_EQ(ML_FILTER_ORDER_DEFAULT, ML_FILTER_ORDER_LOW);
}

TEST(FilterStatusValues, StatusByteRoundTripsAndZeroMeansNone) {
    for (std::uint32_t v = ML_STATUS_REQ_FINISHED; v <= ML_STATUS_REQ_READ_NEXT; ++v) {
        const auto status = static_cast<FilterStatus>(v);
        const std::uint8_t byte = status_byte(status);
        EXPECT_GE(byte, 1);
        EXPECT_LE(byte, 6);
        EXPECT_EQ(status_from_byte(byte), status);
    }
    EXPECT_EQ(status_from_byte(0), std::nullopt);
    EXPECT_EQ(status_from_byte(7), std::nullopt);
}

TEST(FilterStatusValues, NamesFromCAndCpp) {
    EXPECT_EQ(name(FilterStatus::FinishedKeepConn), "REQ_FINISHED_KEEP_CONN");
    EXPECT_STREQ(ml_filter_status_name(ML_STATUS_REQ_READ_NEXT), "REQ_READ_NEXT");
    EXPECT_STREQ(ml_filter_status_name(0), "UNKNOWN");
    EXPECT_STREQ(ml_filter_status_name(0x8000006), "UNKNOWN");
    EXPECT_EQ(filter_status_from_value(0x7FFFFFF), std::nullopt);
    EXPECT_EQ(filter_status_from_value(ML_STATUS_REQ_ERROR), FilterStatus::Error);
}
