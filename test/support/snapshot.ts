// The replay-equivalence check: everything the projections hold, read back from the database, and
// the same computed by exporting the event log and replaying it offline. Lives in src/offline (it is
// what `verity verify` compares); re-exported here for the suites.
