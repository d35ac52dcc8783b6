package store

// NotifyingTables exposes the tables with a change trigger to the external
// tests.
var NotifyingTables = notifyingTables
