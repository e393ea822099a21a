// Runs SQL on a trace file directly (to age or damage it the way a test needs).
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace memlife::test {

inline void sql_exec(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_free(error);
    sqlite3_close(db);
}

} // namespace memlife::test
