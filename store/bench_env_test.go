package store

import "os"

// benchPG is the server the PostgreSQL benchmarks write into.
var benchPG = os.Getenv("PORTICO_BENCH_POSTGRES")
