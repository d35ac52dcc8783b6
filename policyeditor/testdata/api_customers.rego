# The Customers API policy of testdata/api_customers.json, in Rego.
package portico

default decision := {"action": "deny", "reason": "no rule matched → default deny"}

# Only Acme's people.
decision := {"action": "deny", "reason": "only Acme's people"} if {
	input.user.org != "acme"
}

# Customer admins manage every customer.
decision := {"action": "permit", "reason": "customer admins manage every customer"} if {
	input.user.org == "acme"
	"customer-admins" in input.user.groups
	customers_path
}

# Sales reps read their own customers.
decision := {"action": "permit", "reason": "sales reps read their own customers"} if {
	input.user.org == "acme"
	not "customer-admins" in input.user.groups
	input.request.method in {"GET", "HEAD"}
	parts := split(trim_prefix(input.request.path, "/customers/"), "/")
	startswith(input.request.path, "/customers/")
	id := parts[0]
	id != ""
	id in {trim_space(c) | some c in split(input.user.attributes.assigned_customers, ",")}
}

customers_path if input.request.path == "/customers"

customers_path if startswith(input.request.path, "/customers/")
