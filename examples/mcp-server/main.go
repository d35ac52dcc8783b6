// Command mcp-server is an example MCP server protected by Portico: see
// README.md beside it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"portico/examples/mcp-server/mcpserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	issuer := flag.String("issuer", os.Getenv("PORTICO_ISSUER"), "Portico's issuer URL")
	resource := flag.String("resource", "http://127.0.0.1:8081/mcp", "this server's API identifier, as registered in Portico")
	metadata := flag.String("resource-metadata", "", "Portico's protected resource metadata URL for the API")
	scope := flag.String("scope", "mcp:tools", "the scope every call needs")
	flag.Parse()
	h, err := mcpserver.Handler(mcpserver.Config{Issuer: *issuer, Resource: *resource,
		ResourceMetadataURL: *metadata, Scope: *scope})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		flag.Usage()
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	log.Printf("MCP server for %s on %s", *resource, *addr)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
