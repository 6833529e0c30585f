"""Configuration: precedence (flags > environment > file > defaults), the shipped file, and
errors that name the file, the key and the reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import DEFAULT_POLICIES, ConfigError, load_settings
from gateway.proxy.target import canonical_target
from gateway.reload import load_schemas
from gateway.routing.route import Route

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "gateway.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    settings = load_settings(None, environ={})
    assert (settings.env, settings.upstream, settings.port, settings.fail_closed) == (
        "recette",
        None,
        8080,
        True,
    )
    assert settings.policies == DEFAULT_POLICIES
    assert settings.policy("request", None) == "block"
    assert settings.policy("response", None) == "log"


def test_precedence_flags_over_environment_over_file(tmp_path: Path) -> None:
    file = write(tmp_path, '[gateway]\nenv = "prod"\nport = 9000\nhost = "0.0.0.0"\n')
    environ = {"SNE_GATEWAY_ENV": "ecole", "SNE_GATEWAY_PORT": "7000", "SNE_GATEWAY_WORKERS": "3"}
    settings = load_settings(file, {"port": "9100"}, environ=environ)
    assert settings.env == "ecole"  # the environment beats the file
    assert settings.port == 9100  # the flag beats the environment and the file
    assert settings.host == "0.0.0.0"  # the file beats the default
    assert settings.workers == 3  # the environment beats the default


def test_variables_override_the_file_in_every_table(tmp_path: Path) -> None:
    (tmp_path / "file-ca.pem").touch()
    file = write(
        tmp_path,
        '[gateway]\nfail_closed = true\n[gateway.tls]\nca_bundle = "file-ca.pem"\nverify = true\n'
        '[rules]\npays = "log"\npj = "off"\n',
    )
    environ = {
        "SNE_GATEWAY_FAIL_CLOSED": "no",
        "SNE_GATEWAY_TLS_CA_BUNDLE": "/etc/ssl/env-ca.pem",
        "SNE_GATEWAY_RULES_PAYS": "policy",
    }
    settings = load_settings(file, environ=environ)
    assert settings.fail_closed is False
    assert settings.tls.ca_bundle == Path("/etc/ssl/env-ca.pem")  # as given, not file-relative
    assert settings.tls.verify is True  # the file's, no variable set it
    assert settings.rules == {"pays": "policy", "pj": "off"}


def test_variables_override_the_keys_the_shipped_file_states() -> None:
    shipped = load_settings(SHIPPED, environ={})
    assert (shipped.host, shipped.port, shipped.log_format) == ("127.0.0.1", 8080, "auto")
    environ = {
        "SNE_GATEWAY_HOST": "0.0.0.0",
        "SNE_GATEWAY_PORT": "9090",
        "SNE_GATEWAY_LOG_FORMAT": "json",
        "SNE_GATEWAY_XSD": str(ROOT / "xsd" / "13.33"),
    }
    settings = load_settings(SHIPPED, environ=environ)
    assert (settings.host, settings.port, settings.log_format) == ("0.0.0.0", 9090, "json")
    assert settings.xsd == ROOT / "xsd" / "13.33"


def test_a_bad_value_is_named_where_it_is_in_service(tmp_path: Path) -> None:
    """A variable that overrides the file is the one named when it is wrong, and the file's
    own value is not checked against a variable it never reached."""
    file = write(tmp_path, "[gateway]\nmax_buffered_bytes = 100\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(file, environ={"SNE_GATEWAY_MAX_BODY_BYTES": "1000"})
    assert (caught.value.key, caught.value.file) == ("gateway.max_buffered_bytes", file)
    with pytest.raises(ConfigError) as caught:
        load_settings(file, environ={"SNE_GATEWAY_MAX_BUFFERED_BYTES": "10"}, overrides=None)
    assert caught.value.key is not None and caught.value.key.startswith("$SNE_GATEWAY_MAX_BUFFERED")
    assert load_settings(file, environ={"SNE_GATEWAY_MAX_BUFFERED_BYTES": str(1 << 30)})


def test_paths_in_the_file_are_relative_to_it(tmp_path: Path) -> None:
    file = write(tmp_path, '[gateway]\nxsd = "schemas"\n[gateway.tls]\nca_bundle = "ca.pem"\n')
    (tmp_path / "schemas").mkdir()
    settings = load_settings(file, environ={})
    assert settings.xsd == tmp_path / "schemas"
    assert settings.tls.ca_bundle == tmp_path / "ca.pem"


def test_the_shipped_configuration_loads_and_its_routes_resolve() -> None:
    settings = load_settings(SHIPPED, {"upstream": "http://127.0.0.1:1"}, environ={})
    loaded = load_schemas(settings)
    assert loaded.schema_set.version == "13.34"
    names = {route.name for route in settings.routes}
    assert {"getNumUnique", "getDemandeLogement", "getDoublons", "listerEvenementsDemande"} <= names
    assert {
        "exports-create",
        "exports-status",
        "exports-download",
        "drm-ressources",
        "gdm-mouvements",
    } <= names


@pytest.mark.parametrize(
    ("method", "path", "action", "route"),
    [
        (
            "POST",
            "/nuu-ws/services/DemandeLogement",
            "http://ws.metier.nuu.application.i2/getNumUnique",
            "getNumUnique",
        ),
        (
            "POST",
            "/nuu-ws/services/DemandeLogement",
            "http://ws.metier.nuu.application.i2/getDoublons",
            "getDoublons",
        ),
        ("POST", "/nuu-ws/services/DemandeLogement", None, "DemandeLogement"),
        ("GET", "/v1.0/exports/42", None, "exports-status"),
        ("GET", "/v1.0/exports/42/fichier", None, "exports-download"),
        ("POST", "/v1.0/drm/ressources/", None, "drm-ressources"),
        ("GET", "/v1.0/gdm/mouvements", None, "gdm-mouvements"),
        ("GET", "/somewhere/else", None, None),
    ],
)
def test_routes_match_by_method_path_and_soap_action(
    method: str, path: str, action: str | None, route: str | None
) -> None:
    settings = load_settings(SHIPPED, environ={})
    found = settings.route_for(method, path, action)
    assert (found.name if found else None) == route


def test_path_globs() -> None:
    route = Route("r", "/a/*/b/**")
    assert route.matches("GET", "/a/x/b/c/d", None)
    assert not route.matches("GET", "/a/x/y/b/c", None)


@pytest.mark.parametrize(
    ("glob", "raw_path", "matches"),
    [
        ("/svc/*", "/svc/", True),
        ("/svc/*", "/svc/a", True),
        ("/svc/*", "/svc/a/", True),
        ("/svc/*", "/svc/a/b", False),
        ("/svc/**", "/svc/", True),
        ("/svc/", "/svc", True),
        ("/svc/*/x", "/svc/a/x/", True),
        ("/nuu-ws/services/DemandeLogement**", "/NUU-WS/services/demandelogement", True),
        ("/v1.0/exports/*/fichier", "/V1.0/EXPORTS/9/FICHIER", True),
        ("/svc/a", "/svc/b", False),
    ],
)
def test_globs_match_canonical_paths_without_case(glob: str, raw_path: str, matches: bool) -> None:
    """Paths are matched in their canonical form, without a trailing slash: so are globs."""
    routed = canonical_target(raw_path).routed
    assert Route("r", glob).matches("POST", routed, None) is matches


def test_the_admin_token_comes_from_the_environment_and_is_not_shown() -> None:
    settings = load_settings(None, environ={"SNE_GATEWAY_ADMIN_TOKEN": "s3cret"})
    assert settings.admin_token == "s3cret"
    assert "s3cret" not in repr(settings)


def test_a_route_overrides_the_policy(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        '[[routes]]\nname = "r"\npath = "/r"\nresponse = { schema = "demande", policy = "block" }\n',
    )
    settings = load_settings(file, environ={})
    route = settings.routes[0]
    assert settings.policy("response", route) == "block"
    assert settings.policy("request", route) == "block"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[gateway]\nenv = "staging"\n', "gateway.env", "must be one of ecole, recette, prod"),
        ('[gateway]\nport = "eighty"\n', "gateway.port", "must be a number"),
        ("[gateway]\nport = 65536\n", "gateway.port", "must be at most 65535, not 65536"),
        ('[gateway]\nupstream = "ftp://sne"\n', "gateway.upstream", "http:// or https:// URL"),
        ('[gateway]\ncolour = "red"\n', "gateway.colour", "unknown key"),
        (
            '[gateway]\nallocator = "libjemalloc.so.2"\n',
            "gateway.allocator",
            "must be auto, system or the absolute path of a shared library",
        ),
        (
            '[gateway]\nallocator = "/nowhere/libjemalloc.so.2"\n',
            "gateway.allocator",
            "must be auto, system or the absolute path of a shared library",
        ),
        (
            '[policy.recette]\nrequest = "drop"\n',
            "policy.recette.request",
            "must be one of block, log, off",
        ),
        ('[policy.staging]\nrequest = "log"\n', "policy.staging", "unknown environment"),
        ('[[routes]]\npath = "/x"\n', "routes[0].name", "non-empty string"),
        ('[[routes]]\nname = "x"\npath = "x"\n', "routes[0] (x).path", "starting with /"),
        (
            '[[routes]]\nname = "x"\npath = "/x"\nsoapaction = "a"\n',
            "routes[0] (x)",
            "unknown key(s) ['soapaction']",
        ),
        (
            '[[routes]]\nname = "x"\npath = "/x"\nrequest = { extract = "zip" }\n',
            "routes[0] (x).request.extract",
            "must be one of xml, soap, mtom, tgz",
        ),
        (
            '[gateway.tls]\nclient_key = "k.pem"\n',
            "gateway.tls.client_key",
            "needs its client_cert",
        ),
        ("[gateway\n", None, "invalid TOML"),
    ],
)
def test_a_bad_file_names_file_key_and_reason(
    tmp_path: Path, text: str, key: str | None, reason: str
) -> None:
    file = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(file, environ={})
    error = caught.value
    assert error.file == file
    assert error.key == key
    assert reason in error.reason
    assert str(error).startswith(str(file))


def test_a_bad_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match=r"\$SNE_GATEWAY_PORT: must be a number"):
        load_settings(None, environ={"SNE_GATEWAY_PORT": "x"})


def test_a_missing_xsd_path_names_where_it_was_set(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"xsd": "nowhere"}, environ={})
    assert str(caught.value).startswith("--xsd: nowhere: no such file or directory; give the XSD")
    with pytest.raises(ConfigError, match=r"^\$SNE_GATEWAY_XSD: nowhere: no such file"):
        load_settings(None, environ={"SNE_GATEWAY_XSD": "nowhere"})
    file = write(tmp_path, '[gateway]\nxsd = "xsd"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(file, environ={})
    assert (caught.value.file, caught.value.key) == (file, "gateway.xsd")
    assert caught.value.reason == (
        f"{tmp_path / 'xsd'}: no such file or directory; give the XSD catalog directory or one "
        "entry .xsd/.wsdl file (a relative path starts from the configuration file's directory)"
    )
    (tmp_path / "xsd").mkdir()
    assert load_settings(None, {"xsd": "xsd"}, environ={"SNE_GATEWAY_XSD": "nowhere"}).xsd == (
        Path("xsd")
    )


def test_a_relative_xsd_flag_starts_from_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "conf" / "schemas").mkdir(parents=True)
    (tmp_path / "mine").mkdir()
    file = write(tmp_path / "conf", '[gateway]\nxsd = "schemas"\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings(file, {"xsd": "mine"}, environ={}).xsd == Path("mine")


def test_without_the_shipped_xsd_set_the_error_says_how_to_give_one(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("gateway.config.SHIPPED_XSD", tmp_path / "xsd")
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={})
    assert str(caught.value) == (
        f"xsd: the shipped XSD set ({tmp_path / 'xsd'}) is not installed here: set xsd in the "
        "configuration file, $SNE_GATEWAY_XSD or --xsd"
    )


@pytest.mark.parametrize(
    ("upstream", "reason"),
    [
        ("https://sne..example.fr", "the host of 'https://sne..example.fr' is not a valid name"),
        ("https://sne.example:99999", "the port of 'https://sne.example:99999' is not a number"),
        ("sne.example", "must be an http:// or https:// URL"),
    ],
)
def test_an_upstream_that_cannot_be_reached_by_its_spelling_fails_at_start(
    upstream: str, reason: str
) -> None:
    with pytest.raises(ConfigError, match=f"^--upstream: {re.escape(reason)}"):
        load_settings(None, {"upstream": upstream}, environ={})


def test_the_keys_some_source_chose_are_known(tmp_path: Path) -> None:
    file = write(tmp_path, "[gateway]\nport = 9000\n")
    settings = load_settings(file, {"workers": "2"}, environ={"SNE_GATEWAY_ENV": "prod"})
    assert settings.chosen == {"port", "workers", "env"}
    assert load_settings(None, environ={}).chosen == frozenset()


def test_a_route_naming_a_schema_the_set_lacks_is_a_warning_naming_it(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        f'[gateway]\nxsd = "{ROOT / "xsd"}"\n[[routes]]\nname = "x"\npath = "/x"\nrequest = {{ schema = "demandes" }}\n',
    )
    loaded = load_schemas(load_settings(file, environ={}))
    assert loaded.schema_set.unresolved == {"demandes"}
    [warning] = loaded.warnings
    assert warning.startswith("route(s) x name 'demandes', which the XSD set ")
    assert "judged by the schema their identity selects" in warning


def test_every_key_is_documented_with_its_default() -> None:
    from gateway.config import Settings
    from gateway.config_schema import GatewayTable, TlsTable

    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    defaults = Settings()
    for key in GatewayTable.KEYS:
        row = next(
            (line for line in documented.splitlines() if line.startswith(f"| `{key}` |")), None
        )
        assert row is not None, key
        default = getattr(defaults, key)
        if isinstance(default, bool):
            assert f"`{str(default).lower()}`" in row, key
        elif isinstance(default, int | float) and not isinstance(default, bool):
            assert f"`{default}`" in row, key
        elif isinstance(default, str):
            assert f'`"{default}"`' in row, key
    for key in TlsTable.__struct_fields__:
        assert f"| `{key}` |" in documented, key
