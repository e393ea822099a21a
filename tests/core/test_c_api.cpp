// Drives the C translation unit c_api_calls.c: the C API as a C server uses it.
#include <gtest/gtest.h>

extern "C" {
int c_api_alloc_mem_rules(void);
int c_api_reports(void);
int c_api_strerror(void);
int c_api_stacks(void);
}

TEST(CApi, AllocMemRulesAndErrors) {
    EXPECT_EQ(c_api_alloc_mem_rules(), 0);
}
TEST(CApi, CorruptionAndLeakReportsReachTheHandler) {
    EXPECT_EQ(c_api_reports(), 0);
}
TEST(CApi, ErrorStringsAndConfiguration) {
    EXPECT_EQ(c_api_strerror(), 0);
}
TEST(CApi, ReportsCarryTheAllocatingStack) {
    EXPECT_EQ(c_api_stacks(), 0);
}
