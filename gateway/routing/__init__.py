"""Routing: which exchanges a route takes, what it validates in each direction, and with which
policy. `route` defines the vocabulary (directions, policies, a direction's rule, a route and
its path glob); `router` finds the route of an exchange among the routes in service;
`delivery` fits the configured routes to an XSD set and adds those its WSDLs describe.

Nothing here reads configuration files: `gateway.config` loads settings into these types.
"""
