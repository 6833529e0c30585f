"""`sne-gateway init`: the gateway.toml that an XSD set as received amounts to, written out.

`serve` already runs a delivery with the shipped configuration (`gateway.routing.delivery`);
`init` writes that configuration down for users who want to read or edit it: one route per
operation of each WSDL service at the path of its `soap:address` (and one for the service's
other calls), the REST routes of the shipped configuration with the schemas the set has, and
comments saying where each came from. Documents are not tied to schema names: each is judged by
the schema its identity selects, so the file stays right when the delivery adds a version.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gateway.catalog import SchemaSet, load_catalog
from gateway.cli.arguments import fail
from gateway.config import DEFAULT_POLICIES, SHIPPED_CONFIG, ConfigError, load_settings
from gateway.routing.delivery import WsdlService, routed_in_order, service_routes, wsdl_services
from gateway.routing.route import ENVIRONMENTS, DirectionRule, Route
from gateway.schema import CatalogError

DEFAULT_OUTPUT = Path("gateway.toml")
RULE = "# " + "-" * 93


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "init",
        help="write the gateway.toml for an XSD delivery as received",
        description="Write a complete, commented gateway.toml for the XSD set DELIVERY: one "
        "route per operation of its WSDLs at each service's soap:address path, and the REST "
        "routes of the shipped configuration. `serve --config FILE` then loads it.",
    )
    parser.add_argument(
        "--xsd", type=Path, required=True, help="the delivery: a folder of .xsd/.wsdl files"
    )
    parser.add_argument("--upstream", help="base URL of the SNE platform (default: none)")
    parser.add_argument("--env", choices=ENVIRONMENTS, help="environment (default: none)")
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"file to write, - for standard output (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    parser.set_defaults(run=run)


def _toml(value: str | Iterable[str]) -> str:
    """A TOML string, or array of strings (JSON's escapes are TOML's)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(map(_toml, value)) + "]"


def _rule(rule: DirectionRule) -> str:
    keys = []
    if rule.schema is not None:
        keys.append(f"schema = {_toml(rule.schema)}")
    if rule.wrapper is not None:
        keys.append(f"wrapper = {_toml(rule.wrapper)}")
    if rule.embedded:
        keys.append(f"embedded = {_toml(rule.embedded)}")
    if rule.extract is not None:
        keys.append(f"extract = {_toml(rule.extract)}")
    if rule.policy is not None:
        keys.append(f"policy = {_toml(rule.policy)}")
    return "{ " + ", ".join(keys) + " }" if keys else "{}"


def _route(route: Route, comment: str = "") -> list[str]:
    lines = ["[[routes]]", f"name = {_toml(route.name)}" + (f"  # {comment}" if comment else "")]
    if route.methods:
        lines.append(f"methods = {_toml(route.methods)}")
    lines.append(f"path = {_toml(route.path)}")
    if route.soap_action:
        lines.append(f"soap_action = {_toml(route.soap_action)}")
    for direction in ("request", "response"):
        rule: DirectionRule = getattr(route, direction)
        if rule != DirectionRule():
            lines.append(f"{direction} = {_rule(rule)}")
    return [*lines, ""]


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, 93)]


def _service(wsdl_service: WsdlService) -> list[str]:
    service = wsdl_service.service
    documents = {
        direction: ", ".join(names) or "none" for direction, names in service.documents.items()
    }
    lines = [
        RULE,
        *_comment(
            f"{service.name} ({service.file.name}), SOAP {service.soap_version}, at "
            f"{service.address}. The Body's payload is checked "
            f"against the WSDL's schema ({wsdl_service.wrapper}); the documents in requests "
            f"({documents['request']}) and in responses ({documents['response']}) against the "
            "schema their identity selects. Every route of the service checks the documents any "
            "of its calls may carry, whatever its action says."
        ),
        RULE,
        "",
    ]
    routes = service_routes(service, wsdl_service.wrapper)
    by_name = {operation.name: operation for operation in service.operations}
    for route in routes:
        operation = by_name.get(route.name)
        if operation is None:
            without = [o.name for o in service.operations if not o.soap_action]
            comment = "any other call of the service"
            if without:
                comment += f" (no SOAPAction in the WSDL: {', '.join(without)})"
            lines += _route(route, comment)
        else:
            lines += _route(route, operation.documentation[:80])
    return lines


def _rest(route: Route, schema_set: SchemaSet) -> list[str]:
    """A REST route of the shipped configuration, with the schemas the set has."""
    lacking: list[str] = []
    rules = {}
    for direction in ("request", "response"):
        rule: DirectionRule = getattr(route, direction)
        names = (rule.schema,) if isinstance(rule.schema, str) else rule.schema or ()
        kept = tuple(name for name in names if name in schema_set.schemas)
        lacking += [name for name in names if name not in schema_set.schemas]
        schema = kept[0] if len(kept) == 1 else (kept or None)
        rules[direction] = DirectionRule(
            schema, rule.wrapper, rule.embedded, rule.extract, rule.policy
        )
    lines = []
    if lacking:
        lines += _comment(
            f"{', '.join(dict.fromkeys(lacking))}: not in this XSD set: the route's documents are "
            "judged by the schema their identity selects."
        )
    return lines + _route(Route(route.name, route.path, route.methods, route.soap_action, **rules))


def render(xsd: Path, shown_xsd: str, upstream: str | None, env: str | None) -> tuple[str, int]:
    """The configuration for the XSD set `xsd` (written `shown_xsd` in the file), and how many
    routes it has. Raise `CatalogError` or `ConfigError`."""
    catalog = load_catalog(xsd)
    schema_set = catalog.version()
    services, warnings = wsdl_services(schema_set)
    shipped = load_settings(SHIPPED_CONFIG, {"xsd": str(xsd)}, environ={})
    rest = [r for r in shipped.routes if not (r.request.wrapper or r.response.wrapper)]
    versions = ", ".join(catalog.versions)
    lines = [
        *_comment(
            f"sne-gateway configuration for the XSD set {shown_xsd} (version(s) {versions}), "
            "written by `sne-gateway init`: one route per operation of its WSDLs, at the path "
            "of each service's soap:address, and the REST routes of the shipped configuration. "
            "Every key and its default is documented in docs/configuration.md. Documents are "
            "judged by the schema their identity selects (root, element after entete, "
            "versionInterface): see docs/configuration.md, 'Which schema judges a document'."
        ),
        *(
            line
            for warning in (*catalog.warnings, *warnings)
            for line in _comment(f"Note: {warning}")
        ),
        "",
        "[gateway]",
        f"xsd = {_toml(shown_xsd)}",
        f"upstream = {_toml(upstream)}" if upstream else '# upstream = "https://sne.example"',
        f"env = {_toml(env)}"
        if env
        else '# env = "recette"                   # ecole | recette | prod',
        '# host = "127.0.0.1"',
        "# port = 8080",
        "",
    ]
    for environment, policy in DEFAULT_POLICIES.items():
        lines += [
            f"[policy.{environment}]",
            f"request = {_toml(policy['request'])}",
            f"response = {_toml(policy['response'])}",
            "",
        ]
    count = 0
    for wsdl_service in routed_in_order(services):
        lines += _service(wsdl_service)
        count += len(service_routes(wsdl_service.service, wsdl_service.wrapper))
    for wsdl_service in services:
        if wsdl_service.service.path is None:
            lines += _comment(
                f"{wsdl_service.service.name} ({wsdl_service.service.file.name}) gives no "
                "soap:address: no route for it here. Its payloads are still judged by the "
                "WSDL wherever a route or their identity brings them."
            )
    lines += [RULE, "# REST interface v1.0, kept from the shipped configuration", RULE, ""]
    for route in rest:
        lines += _rest(route, schema_set)
    return "\n".join(lines).rstrip("\n") + "\n", count + len(rest)


def run(arguments: argparse.Namespace) -> int:
    output: Path = arguments.output
    to_stdout = str(output) == "-"
    if not to_stdout and output.exists() and not arguments.force:
        return fail(
            f"{output} exists: choose another file with --output, or replace it with --force"
        )
    xsd = arguments.xsd.resolve()
    if to_stdout:
        shown = str(xsd)
    else:
        relative = os.path.relpath(xsd, output.resolve().parent)
        shown = str(xsd) if relative.startswith("..") else relative
    try:
        text, count = render(arguments.xsd, shown, arguments.upstream, arguments.env)
    except (CatalogError, ConfigError) as error:
        return fail(str(error))
    if to_stdout:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        return fail(f"{output}: {error.strerror or error}")
    print(
        f"sne-gateway: wrote {output} ({count} routes); run it with: "
        f"sne-gateway serve --config {output}",
        file=sys.stderr,
    )
    return 0
