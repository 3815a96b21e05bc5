package sqlite

// OpenDB is openDB, for the tests of package sqlite_test (which may import sqlitetest).
var OpenDB = openDB
