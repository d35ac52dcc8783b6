package gomiddleware_test

import (
	"fmt"
	"net/http"

	"portico/examples/gomiddleware"
)

// A customers API that Portico guards: the policy attached to /customers
// decides who may read which customer; the handler only reads who it is.
func ExampleMiddleware() {
	guard := gomiddleware.Middleware(gomiddleware.Config{AuthorizerURL: "http://127.0.0.1:8080/authz"})
	api := http.NewServeMux()
	api.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		who, _ := gomiddleware.FromContext(r.Context())
		fmt.Fprintf(w, "customer %s, read by %s of %s\n", r.PathValue("id"), who.Subject, who.Org)
	})
	_ = http.ListenAndServe // http.ListenAndServe("127.0.0.1:9001", guard(api))
	_ = guard(api)
}
