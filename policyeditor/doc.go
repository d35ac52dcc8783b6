// Package policyeditor holds Portico's access policies: the JSON document admins
// write (or build in the editor), Compile, which turns a document into an evaluable
// Policy or refuses it whole with one message per offending field, and Evaluate,
// which decides Permit, Deny or Challenge for a request.
//
// Evaluation is pure: the caller fills a Request with the clock, the source address,
// its country, the user and the client, so the same code serves /authorize, the
// token endpoint, client registration, the editor's simulator and
// `portico policy eval`, and every decision can be replayed from what was logged.
// Everything that can be prepared ahead (address ranges, country sets, time zones,
// reason strings) is prepared by Compile, so a decision does not allocate.
//
// Countries come from a Locator. The default one wraps github.com/phuslu/iploc,
// chosen because it embeds the IP2Location LITE country table in the Go package
// itself: no database file to download, configure or refresh at runtime, lookups of
// about 15 ns without allocation, and updates arrive as ordinary module versions.
// Its data is CC BY-SA 4.0 and must be credited where the portal shows
// geolocation; see IP2LocationAttribution.
package policyeditor
